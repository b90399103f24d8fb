package main_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/internal/browsertest"
	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/protocol"
)

// TestBrowserSessionEnds (issue 12, point 5): in real Chromium, against the
// real binary and Dendrite. A citizen who closes the case is told before
// that the conversation will no longer be readable in this browser and is
// offered the download; afterwards the page shows no download link, the
// cookie is gone, and a reload shows the entry form. In English a case
// staff resolved offers "End session", after which the entry form says so
// and nothing of the conversation is left on the page. axe checks every
// new state.
func TestBrowserSessionEnds(t *testing.T) {
	var always strings.Builder
	for _, day := range strings.Fields("monday tuesday wednesday thursday friday saturday sunday") {
		fmt.Fprintf(&always, "      %s: [\"00:00-24:00\"]\n", day)
	}
	g := startGuestSetup(t, tesths.Dendrite, guestOptions{Bauamt: "    office_hours:\n" + always.String()})
	ctx := context.Background()

	s := browsertest.Start(t, "e2e/session.mjs", nil)
	s.Expect("ready", browserStep)
	s.Continue("ready", map[string]any{"base": g.base})
	s.Expect("closed", 2*time.Minute)
	s.Continue("closed", nil)

	resolve := s.Expect("resolve", 2*time.Minute)
	ref, _ := resolve["reference"].(string)
	require.NotEmpty(t, ref)
	room := g.claim(t, ref)
	_, err := g.anna.SendText(ctx, room, "!rathaus resolve")
	require.NoError(t, err)
	tesths.WaitFor(t, 30*time.Second, "the case to be resolved", func() error {
		var state protocol.CaseContent
		if err := g.anna.StateEvent(ctx, room, protocol.CaseEventType, "", &state); err != nil {
			return err
		}
		if state.Status != protocol.CaseResolved {
			return fmt.Errorf("status %s", state.Status)
		}
		return nil
	})
	s.Continue("resolve", nil)

	done := s.Expect("done", 2*time.Minute)
	for _, check := range done["a11y"].([]any) {
		c := check.(map[string]any)
		t.Logf("axe %-40s %v rules passed", c["label"], c["passes"])
	}
	s.Continue("done", nil)
	s.Wait(browserStep)
}
