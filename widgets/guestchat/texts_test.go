package guestchat

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/protocol"
)

// pageCatalog reads one language's texts out of the page's i18n.js.
func pageCatalog(t *testing.T, lang string) map[string]string {
	t.Helper()
	src, err := os.ReadFile("web/assets/i18n.js")
	require.NoError(t, err)
	start := strings.Index(string(src), "\nconst "+lang+" = {")
	require.GreaterOrEqual(t, start, 0, "i18n.js has no catalogue %q", lang)
	block := string(src)[start:]
	block = block[:strings.Index(block, "\n};")]
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`'([\w.]+)': '((?:[^'\\]|\\.)*)',`).FindAllStringSubmatch(block, -1) {
		out[m[1]] = strings.ReplaceAll(m[2], `\'`, `'`)
	}
	require.NotEmpty(t, out)
	return out
}

// TestTranscriptTextsMatchThePage: a status, a step of the case and the
// senders read the same in the transcript as on the page (issue 11,
// point 3).
func TestTranscriptTextsMatchThePage(t *testing.T) {
	for lang, texts := range pageTexts {
		page := pageCatalog(t, lang)
		for key, text := range texts {
			assert.Equal(t, page[key], text, "%s %s", lang, key)
		}
		for _, status := range []protocol.CaseStatus{protocol.CaseQueued, protocol.CaseActive, protocol.CaseAwaitingCitizen,
			protocol.CaseResolved, protocol.CaseClosed, protocol.CaseAbandoned, protocol.CaseTransferred, protocol.CasePurged} {
			assert.NotEmpty(t, texts["status."+string(status)], "%s status %s", lang, status)
		}
		for _, kind := range append(slices.Clone(protocol.CaseNotices), protocol.SubmissionNotices...) {
			assert.NotEmpty(t, texts["notice."+kind], "%s notice %s", lang, kind)
			assert.NotContains(t, texts["notice."+kind], " / ", "%s notice %s is in one language", lang, kind)
		}
	}
	assert.Equal(t, "Status: in Bearbeitung", pageText("de", "chat.statusChanged", "status", statusText("de", protocol.CaseActive)))
	assert.Equal(t, "Status: resolved", pageText("en", "chat.statusChanged", "status", statusText("en", protocol.CaseResolved)))
	assert.Equal(t, "unbekannt", statusText("de", "nonsense"))
}
