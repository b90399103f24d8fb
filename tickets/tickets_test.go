package tickets

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/protocol"
)

func TestParseStatus(t *testing.T) {
	for _, tc := range []struct {
		word string
		want Status
	}{
		{"rueckfrage", StatusAwaitingCitizen}, {"Rückfrage", StatusAwaitingCitizen}, {"awaiting", StatusAwaitingCitizen},
		{"awaiting_citizen", StatusAwaitingCitizen}, {"erledigt", StatusResolved}, {"RESOLVED", StatusResolved},
		{"geschlossen", ""}, {"", ""}, {"active", ""},
	} {
		t.Run(tc.word, func(t *testing.T) {
			got, err := ParseStatus(tc.word)
			assert.Equal(t, tc.want, got)
			if tc.want == "" {
				assert.ErrorIs(t, err, ErrUnknownStatus)
			}
		})
	}
}

func TestValidExternalRef(t *testing.T) {
	for ref, ok := range map[string]bool{
		"INC-2026/4711": true, "#4711": true, "OTRS:12_3.4": true, strings.Repeat("9", MaxExternalRef): true,
		"": false, strings.Repeat("9", MaxExternalRef+1): false, "INC 4711": false, "<b>": false, "Ä-1": false,
		"a\u202eb": false, "x\n": false,
	} {
		assert.Equal(t, ok, ValidExternalRef(ref), "%q", ref)
	}
}

func TestTemplates(t *testing.T) {
	seen := map[string]bool{}
	for _, tpl := range Templates {
		for _, name := range append([]string{tpl.ID}, tpl.Aliases...) {
			require.False(t, seen[name], "%s named twice", name)
			seen[name] = true
			assert.Equal(t, tpl.ID, TemplateByName(strings.ToUpper(name)).ID)
		}
		assert.True(t, strings.HasPrefix(tpl.TextDE, "Bitte "), "formal German: %s", tpl.TextDE)
		assert.NotContains(t, tpl.TextDE, " du ", "Sie, not du")
		assert.NotEmpty(t, tpl.TextEN)
		assert.NotEmpty(t, tpl.LabelDE)
		assert.NotEmpty(t, tpl.LabelEN)
	}
	assert.Nil(t, TemplateByName("steuerbescheid"))
}

func TestSummaryText(t *testing.T) {
	sum := &Summary{CaseID: "c1", Reference: "BAU-2026-00001", Department: "Bauamt", CaseStatus: protocol.CaseAwaitingCitizen,
		Ticket: protocol.TicketContent{ID: "bauantrag.jti-1", Service: protocol.TicketService{ID: "bauantrag", Name: "Bauantrag\nonline"},
			Leika: "99108008000000", Step: "Grundstück", Verified: true},
		SubmissionStatus: "forwarded", ExternalRef: "INC-1",
		SubmissionHistory: []SubmissionStep{{Status: "submitted", At: 1}, {Status: "forwarded", At: 2}},
		History:           []Transition{{To: protocol.CaseQueued, Actor: "citizen"}, {From: protocol.CaseQueued, To: protocol.CaseActive, Actor: "@anna:rathaus.test"}}}
	text := SummaryText(sum)
	for _, want := range []string{"Ticket bauantrag.jti-1 · BAU-2026-00001 (Bauamt)",
		"Fallstatus / case status: wartet auf Antwort der Bürgerin oder des Bürgers / awaiting citizen",
		"Online-Dienst / online service: Bauantrag online", "Status der Einreichung / submission status: forwarded",
		"Externe Ticketnummer / external ticket: INC-1", "wartet auf Bearbeitung / queued (Bürger:in / citizen)",
		"in Bearbeitung / active (@anna:rathaus.test)", "Verlauf der Einreichung / submission history:", " submitted", " forwarded"} {
		assert.Contains(t, text, want)
	}
	assert.NotContains(t, text, "Fehlercode", "empty fields are left out")

	sum.Ticket.Verified = false
	assert.Contains(t, SummaryText(sum), "Signatur / signature: nicht geprüft / unverified")
}
