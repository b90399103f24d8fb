package main_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"

	"github.com/rathaus-de/rathaus/internal/browsertest"
	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/protocol"
)

// TestBrowserCitizenFlow (issue 4, acceptance 1 to 3): a citizen in real
// Chromium and a caseworker with a Matrix client, through the real binary
// and Dendrite. The citizen uses the keyboard only; axe-core checks every
// state; what the citizen types stays text.
func TestBrowserCitizenFlow(t *testing.T) {
	g := startGuestSetup(t, tesths.Dendrite, guestOptions{Authority: "  privacy_url: https://www.bad-beispielheim.de/datenschutz\n"})
	ctx := context.Background()
	script := browsertest.Start(t, "e2e/flow.mjs", nil)
	script.Expect("ready", time.Minute)
	script.Continue("ready", map[string]any{"url": g.base + "/chat/bauamt"})

	opened := script.Expect("opened", 2*time.Minute)
	ref, _ := opened["reference"].(string)
	require.Regexp(t, `^BAU-\d{4}-\d{5}$`, ref)
	t.Logf("the case opened %v ms after the citizen pressed Enter (proof of work at the default difficulty)", opened["open_ms"])
	room := g.claim(t, ref)
	_, err := g.anna.SendText(ctx, room, "Guten Tag, hier ist das Bauamt.")
	require.NoError(t, err)
	script.Continue("opened", nil)

	script.Expect("sent", time.Minute)
	bodies := g.roomBodies(t, room, "")
	assert.Equal(t, 1, bodies["!rathaus close"], "the citizen's text reached the room as text")
	assert.Equal(t, 1, bodies["Anhang-1.png"], "the citizen's file reached the room")
	var caseState protocol.CaseContent
	require.NoError(t, g.anna.StateEvent(ctx, room, protocol.CaseEventType, "", &caseState))
	assert.Equal(t, protocol.CaseActive, caseState.Status, "the citizen's \"!rathaus close\" closed nothing")
	pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	up, err := g.anna.UploadBytesWithName(ctx, pdf, "application/pdf", "Merkblatt.pdf")
	require.NoError(t, err)
	_, err = g.anna.SendMessageEvent(ctx, room, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgFile,
		Body: "Merkblatt.pdf", URL: up.ContentURI.CUString(), Info: &event.FileInfo{MimeType: "application/pdf", Size: len(pdf)}})
	require.NoError(t, err)
	// A slip the caseworker deletes, and a typo she corrects.
	slip, err := g.anna.SendText(ctx, room, "Notiz zur Nachbarakte Müller")
	require.NoError(t, err)
	typo, err := g.anna.SendText(ctx, room, "Bitte kommen Sie am Diensttag.")
	require.NoError(t, err)
	_, err = g.anna.SendMessageEvent(ctx, room, event.EventMessage, map[string]any{
		"msgtype": "m.text", "body": "* Bitte kommen Sie am Dienstag.",
		"m.new_content": map[string]any{"msgtype": "m.text", "body": "Bitte kommen Sie am Dienstag."},
		"m.relates_to":  map[string]any{"rel_type": "m.replace", "event_id": typo.EventID},
	})
	require.NoError(t, err)
	_, err = g.anna.RedactEvent(ctx, room, slip.EventID)
	require.NoError(t, err)
	script.Continue("sent", nil)

	script.Expect("downloaded", time.Minute)
	close, err := g.anna.SendText(ctx, room, "!rathaus close")
	require.NoError(t, err)
	tesths.WaitFor(t, 30*time.Second, "the case to close", func() error {
		return g.anna.StateEvent(ctx, room, protocol.CaseEventType, "", &caseState)
	})
	script.Continue("downloaded", nil)
	script.Expect("closed", time.Minute)
	script.Continue("closed", nil)
	script.Wait(time.Minute)
	require.NoError(t, g.anna.StateEvent(ctx, room, protocol.CaseEventType, "", &caseState))
	assert.Equal(t, protocol.CaseClosed, caseState.Status, "closed by %s", close.EventID)
	assert.False(t, strings.Contains(g.proc.log(), "Bauantrag"), "message bodies are not logged")
}
