package main_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/internal/browsertest"
	"github.com/rathaus-de/rathaus/internal/tesths"
)

// Retention for TestBrowserPageStates: the page warns after 10 s without a
// sign of the citizen (room enough for the chat checks before it), and a
// case is abandoned after 28 s.
const statesRetention = "retention:\n  abandon_after: 28s\n  idle_warning: 18s\n  check_interval: 500ms\n  keep_closed: 1h\n"

// TestBrowserPageStates walks the citizen's page through every state it
// can be in and runs axe-core on each (issue 4, acceptance 2): the entry
// of an open and of a closed department (German and English), the 404
// page, the proof of work, the queued and the active chat, the close
// confirmation, the idle warning, the closed and the abandoned view. On the
// way it checks that the idle warning is answered by keyboard alone and
// keeps the case open, that a silent case lapses into "abandoned" in front
// of its citizen, that the chat reflows at 320 CSS px, and that markup a
// citizen or a caseworker writes is shown as text.
func TestBrowserPageStates(t *testing.T) {
	started := time.Now()
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	today := time.Now().In(berlin)
	const weekdays = "monday tuesday wednesday thursday friday"
	var always, mornings strings.Builder
	for _, day := range strings.Fields(weekdays + " saturday sunday") {
		fmt.Fprintf(&always, "      %s: [\"00:00-24:00\"]\n", day)
	}
	for _, day := range strings.Fields(weekdays) {
		fmt.Fprintf(&mornings, "      %s: [\"08:00-12:00\"]\n", day)
	}
	departments := "  - id: buergerbuero\n    name: Bürgerbüro\n    description: Ausweise, Meldebescheinigungen, Führungszeugnisse.\n    office_hours:\n" +
		always.String() +
		"  - id: standesamt\n    name: Standesamt\n    office_hours:\n" + mornings.String() +
		fmt.Sprintf("    closed_dates: [\"%s..%s\"]\n", today.Format(time.DateOnly), today.AddDate(0, 0, 3).Format(time.DateOnly))
	g := startGuestSetup(t, tesths.Dendrite, guestOptions{Departments: departments, Extra: statesRetention, Bauamt: "    office_hours:\n" + always.String()})
	ctx := context.Background()
	t.Logf("rathaus and Dendrite up after %s", time.Since(started).Round(time.Millisecond))

	s := browsertest.Start(t, "e2e/states.mjs", nil)
	s.Expect("ready", browserStep)
	s.Continue("ready", map[string]any{"base": g.base})

	queued := s.Expect("queued", browserStep)
	ref, _ := queued["reference"].(string)
	require.NotEmpty(t, ref)
	room := g.claim(t, ref)
	t.Logf("case %s claimed at %s", ref, time.Since(started).Round(time.Millisecond))
	s.Continue("queued", nil)

	sent := s.Expect("sent", browserStep)
	var bodies []string
	for _, b := range sent["bodies"].([]any) {
		bodies = append(bodies, b.(string))
	}
	tesths.WaitFor(t, 30*time.Second, "the citizen's messages and file in the case room", func() error {
		got := g.roomBodies(t, room, "")
		for _, b := range bodies {
			if got[b] != 1 {
				return fmt.Errorf("%q %d times in the room", b, got[b])
			}
		}
		return nil
	})
	staff := []string{
		"Danke, wir prüfen den Lageplan.",
		`<img src=x onerror="alert('staff')"> <a href="javascript:alert(1)">hier</a> & <b>fett</b>`,
	}
	for _, body := range staff {
		_, err := g.anna.SendText(ctx, room, body)
		require.NoError(t, err)
	}
	s.Continue("sent", map[string]any{"staff": staff})

	done := s.Expect("done", 90*time.Second)
	for _, check := range done["a11y"].([]any) {
		c := check.(map[string]any)
		t.Logf("axe %-32s %v rules passed, incomplete %v", c["label"], c["passes"], c["incomplete"])
	}
	log := g.proc.log()
	assert.Equal(t, 1, strings.Count(log, "Abandoned idle case"), "only the silent case is abandoned; \"Ich bin noch da\" kept the other open")
	// The citizens' name, questions, messages and file name.
	for _, b := range append(bodies, "Maria", "Carport", "Ich melde mich") {
		assert.Empty(t, linesContaining(log, b), "what the citizen wrote (%q) is not logged", b)
	}
	s.Continue("done", nil)
	s.Wait(browserStep)
	t.Logf("whole test took %s", time.Since(started).Round(time.Millisecond))
}

// linesContaining returns the lines of a log that contain s, so a failure
// shows those instead of the whole log.
func linesContaining(log, s string) []string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return out
}
