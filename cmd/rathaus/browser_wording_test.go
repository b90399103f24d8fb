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

// TestBrowserCitizenWording (issue 11, points 1, 3, 4 and 5): in real
// Chromium, against the real binary and Dendrite. A question asked while
// the department is closed keeps saying that nobody answers before the
// next opening, when that is, and what happens meanwhile (after a reload
// and in English too); a status reads "Status: in Bearbeitung" live, after
// a reload and in the transcript; the bot's notice comes in the page's
// language only; German pages and transcripts show no English text and
// English ones no German; axe checks every new state.
func TestBrowserCitizenWording(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	today := time.Now().In(berlin)
	var mornings, always strings.Builder
	for _, day := range strings.Fields("monday tuesday wednesday thursday friday") {
		fmt.Fprintf(&mornings, "      %s: [\"08:00-12:00\"]\n", day)
	}
	for _, day := range strings.Fields("monday tuesday wednesday thursday friday saturday sunday") {
		fmt.Fprintf(&always, "      %s: [\"00:00-24:00\"]\n", day)
	}
	// Closed today and the next three days, so the next opening is a date.
	departments := "  - id: standesamt\n    name: Standesamt\n    office_hours:\n" + mornings.String() +
		fmt.Sprintf("    closed_dates: [\"%s..%s\"]\n", today.Format(time.DateOnly), today.AddDate(0, 0, 3).Format(time.DateOnly))
	g := startGuestSetup(t, tesths.Dendrite, guestOptions{Departments: departments, Bauamt: "    office_hours:\n" + always.String()})
	ctx := context.Background()

	s := browsertest.Start(t, "e2e/wording.mjs", nil)
	s.Expect("ready", browserStep)
	s.Continue("ready", map[string]any{"base": g.base})

	queued := s.Expect("queued", 2*time.Minute)
	ref, _ := queued["reference"].(string)
	require.NotEmpty(t, ref)
	room := g.claim(t, ref)
	s.Continue("queued", nil)

	s.Expect("active", time.Minute)
	_, err = g.anna.SendText(ctx, room, "!rathaus resolve")
	require.NoError(t, err)
	var state protocol.CaseContent
	tesths.WaitFor(t, 30*time.Second, "the case to be resolved", func() error {
		if err := g.anna.StateEvent(ctx, room, protocol.CaseEventType, "", &state); err != nil {
			return err
		}
		if state.Status != protocol.CaseResolved {
			return fmt.Errorf("status %s", state.Status)
		}
		return nil
	})
	s.Continue("active", nil)

	done := s.Expect("done", 2*time.Minute)
	for _, check := range done["a11y"].([]any) {
		c := check.(map[string]any)
		t.Logf("axe %-48s %v rules passed", c["label"], c["passes"])
	}
	s.Continue("done", nil)
	s.Wait(browserStep)
}
