package cases

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/officehours"
)

func TestQuoteLines(t *testing.T) {
	long := strings.Repeat("Bauantrag ", 40) // 400 runes
	for _, tc := range []struct {
		name string
		text string
		want []string
	}{
		{"empty", "", nil},
		{"only blank lines", "\n \n\t\n", nil},
		{"short", "Wie stelle ich einen Bauantrag?", []string{"Wie stelle ich einen Bauantrag?"}},
		{"blank lines and spaces are dropped", "Guten Tag,\r\n\r\n  ich  habe eine Frage.\n", []string{"Guten Tag,", "ich habe eine Frage."}},
		{"three lines at most", "eins\nzwei\ndrei\nvier", []string{"eins", "zwei", "drei …"}},
		{"cut at a word", long, []string{strings.TrimSpace(strings.Repeat("Bauantrag ", 30)) + "…"}},
		{"the budget spans lines", strings.Repeat("x", 290) + "\nacht Wörter passen hier nicht mehr hinein",
			[]string{strings.Repeat("x", 290), "acht…"}},
		{"a long word is cut inside", strings.Repeat("y", 400), []string{strings.Repeat("y", 300) + "…"}},
		{"control and bidi characters are removed", "Rechnung\u202e fdp.exe\u202c\x07 bitte\u200f", []string{"Rechnung fdp.exe bitte"}},
		{"line separators are line breaks", "eins\u2028zwei", []string{"eins", "zwei"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := quoteLines(tc.text, quoteMaxLines, quoteMaxRunes)
			assert.Equal(t, tc.want, got)
			n := 0
			for _, l := range got {
				n += len([]rune(strings.TrimSuffix(strings.TrimSuffix(l, "…"), " ")))
			}
			assert.LessOrEqual(t, n, quoteMaxRunes)
		})
	}
}

func TestAnnouncementWaited(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	now := time.Date(2026, 11, 27, 11, 30, 0, 0, berlin)
	for _, tc := range []struct {
		name   string
		asked  time.Time
		de, en string
	}{
		{"at once", now.Add(-20 * time.Second), "gerade eben", "just now"},
		{"one minute", now.Add(-time.Minute), "vor 1 Minute (heute, 11:29 Uhr)", "1 minute ago (today 11:29)"},
		{"minutes", now.Add(-25 * time.Minute), "vor 25 Minuten (heute, 11:05 Uhr)", "25 minutes ago (today 11:05)"},
		{"hours", now.Add(-2*time.Hour - 25*time.Minute), "vor 2 Stunden (heute, 9:05 Uhr)", "2 hours ago (today 9:05)"},
		{"since yesterday", now.Add(-20 * time.Hour), "vor 20 Stunden (gestern, 15:30 Uhr)", "20 hours ago (yesterday 15:30)"},
		{"days", now.Add(-4 * 24 * time.Hour), "vor 4 Tagen (Mo 23.11., 11:30 Uhr)", "4 days ago (Mon 23 Nov 11:30)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			de, en := announcement{Asked: tc.asked, Now: now, Schedule: officehours.Schedule{Location: berlin}}.waited()
			assert.Equal(t, tc.de, de)
			assert.Equal(t, tc.en, en)
		})
	}
}

// TestAnnouncementContent: the citizen's words are quoted and escaped,
// marked as theirs, and mention nobody; the claim command is spelled out.
func TestAnnouncementContent(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	c := announcement{Reference: "BAU-2026-00001", Service: "99050012104000 <b>\u202e", Question: "<script>x</script> & @room\nZeile zwei",
		Asked: now, Now: now}.content()
	assert.Equal(t, "Neuer Fall BAU-2026-00001 (Anfrage zu einer Leistung) / new case\n"+
		"Leistung laut Angabe der Bürgerin oder des Bürgers / service as given by the citizen: „99050012104000 <b>“\n"+
		"Gefragt: gerade eben / asked just now\n"+
		"Die Bürgerin oder der Bürger schreibt / the citizen writes:\n"+
		"> <script>x</script> & @room\n"+
		"> Zeile zwei\n"+
		"Übernehmen: !rathaus übernehmen BAU-2026-00001 – oder auf diese Nachricht antworten mit: !rathaus übernehmen / "+
		"claim: !rathaus claim BAU-2026-00001, or reply to this message with !rathaus claim", c.Body)
	assert.Contains(t, c.FormattedBody, "<blockquote><p>&lt;script&gt;x&lt;/script&gt; &amp; @room<br>Zeile zwei</p></blockquote>")
	assert.Contains(t, c.FormattedBody, "„99050012104000 &lt;b&gt;“")
	assert.Contains(t, c.FormattedBody, "<code>!rathaus übernehmen BAU-2026-00001</code>")
	assert.NotContains(t, c.FormattedBody, "<script>")
	require.NotNil(t, c.Mentions)
	assert.False(t, c.Mentions.Room)
	assert.Empty(t, c.Mentions.UserIDs)

	plain := announcement{Reference: "BAU-2026-00002", Asked: now, Now: now}.content()
	assert.True(t, strings.HasPrefix(plain.Body, "Neuer Fall BAU-2026-00002 (allgemeine Anfrage) / new case\nGefragt: gerade eben"))
	assert.NotContains(t, plain.Body, "schreibt", "no question, no quote")
}
