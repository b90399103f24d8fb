package cases

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"maunium.net/go/mautrix/event"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/protocol"
)

func TestTicketSummary(t *testing.T) {
	bauamt := &config.DepartmentConfig{ID: "bauamt", Name: "Bauamt", Services: []string{"99108008000000"}}
	ticket := &protocol.TicketContent{ID: "bauantrag.jti-0123456789abcdef",
		Service: protocol.TicketService{ID: "bauantrag", Name: "Bauantrag <online>", Version: "2.4.1"},
		Leika:   "99108008000000", Step: "Angaben zum Grundstück", ErrorCode: "E-404", Trust: protocol.TrustSubstanziell,
		FITConnect: protocol.FITConnectIDs{Submission: "5f6b7ac5-3c2a-4c6e-9a2e-0d0c6f6b7a11"}, Lang: "en",
		Status: protocol.TicketOpen, Verified: true}

	c := ticketSummary(ticket, bauamt)
	assert.Equal(t, event.MsgNotice, c.MsgType)
	assert.Equal(t, "Übergabe aus dem Online-Dienst „Bauantrag <online>“ / hand-over from the online service\n"+
		"Version: 2.4.1\n"+
		"Leistung (LeiKa) / service key: 99108008000000\n"+
		"Schritt / step: Angaben zum Grundstück\n"+
		"Fehlercode / error code: E-404\n"+
		"Vertrauensniveau / trust level: substanziell\n"+
		"FIT-Connect Einreichung / submission: 5f6b7ac5-3c2a-4c6e-9a2e-0d0c6f6b7a11\n"+
		"Sprache der Seite / page language: Englisch / English\n"+
		"Signatur / signature: geprüft / verified\n"+
		"Ticket: bauantrag.jti-0123456789abcdef", c.Body)
	assert.Contains(t, c.FormattedBody, "<strong>Übergabe aus dem Online-Dienst „Bauantrag &lt;online&gt;“")
	assert.NotContains(t, c.FormattedBody, "<online>")
	assert.NotContains(t, c.Body, "Hinweis", "the department lists the service")
	assert.Empty(t, c.Mentions.UserIDs)

	other := &config.DepartmentConfig{ID: "buergerbuero", Name: "Bürgerbüro"}
	c = ticketSummary(ticket, other)
	assert.Contains(t, c.Body, "Hinweis: Keine Abteilung ist für die Leistung 99108008000000 eingetragen; der Fall kam deshalb an Bürgerbüro")
	assert.Contains(t, c.FormattedBody, "Hinweis: Keine Abteilung")

	c = ticketSummary(&protocol.TicketContent{ID: "case-1", Status: protocol.TicketOpen}, other)
	assert.Equal(t, "Hilfe-Seite ohne gültige Übergabe geöffnet / help page opened without a valid hand-over\n"+
		"Signatur / signature: nicht geprüft: Dienst, Schritt und Fehler sind unbekannt / unverified: service, step and error are unknown\n"+
		"Ticket: case-1", c.Body)
	assert.Equal(t, "Hilfe-Seite ohne geprüfte Übergabe / help page, unverified hand-over", ticketTopic(&protocol.TicketContent{}))
}
