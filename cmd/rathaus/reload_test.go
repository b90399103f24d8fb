package main_test

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/internal/guestclient"
	"github.com/rathaus-de/rathaus/internal/tesths"
)

// TestSIGHUPReloadsDepartments: the running binary applies a changed config
// on SIGHUP, and refuses an invalid one while keeping the running config.
func TestSIGHUPReloadsDepartments(t *testing.T) {
	setup := setupRathaus(t, tesths.Dendrite, func(serverName string) string {
		return fmt.Sprintf(`departments:
  - id: bauamt
    name: Bauamt
    staff:
      - user: "@anna:%s"
        role: admin
`, serverName)
	}, func(u string) string { return u })
	anna, _, _ := setup.hs.RegisterUser(t, "anna", false)
	setup.proc.start(t)
	ctx := context.Background()
	alias := id.NewRoomAlias("_rathaus_bauamt", setup.hs.ServerName)
	resp, err := anna.ResolveAlias(ctx, alias)
	require.NoError(t, err, "the staff room exists after start")
	room := resp.RoomID
	tesths.WaitFor(t, 30*time.Second, "anna to join the staff room", func() error {
		_, err := anna.JoinRoomByID(ctx, room)
		return err
	})
	nameIs := func(want string) func() error {
		return func() error {
			var name event.RoomNameEventContent
			if err := anna.StateEvent(ctx, room, event.StateRoomName, "", &name); err != nil {
				return err
			}
			if name.Name != want {
				return fmt.Errorf("name is %q", name.Name)
			}
			return nil
		}
	}
	tesths.WaitFor(t, 10*time.Second, "the configured name", nameIs("Bauamt – Team"))

	// An invalid config is refused; the rooms stay as they are.
	setup.editConfig(t, "name: Bauamt", "name: Bauamt\n    services: [\"123\"]")
	require.NoError(t, setup.proc.cmd.Process.Signal(syscall.SIGHUP))
	tesths.WaitFor(t, 10*time.Second, "the refusal in the log", func() error {
		if !strings.Contains(setup.proc.log(), "Reload failed; the running config stays active") {
			return fmt.Errorf("not yet")
		}
		return nil
	})

	setup.editConfig(t, "name: Bauamt\n    services: [\"123\"]", "name: Bauordnungsamt")
	require.NoError(t, setup.proc.cmd.Process.Signal(syscall.SIGHUP))
	tesths.WaitFor(t, 30*time.Second, "the renamed staff room", nameIs("Bauordnungsamt – Team"))
}

// TestSIGHUPReachesGuestChatIdleDeadline: a retention period changed by
// SIGHUP is what the citizen's page is told at once, both the idle
// period (info) and the case's own deadline (abandon_at) — not the period
// rathaus started with.
func TestSIGHUPReachesGuestChatIdleDeadline(t *testing.T) {
	g := startGuestSetup(t, tesths.Dendrite, guestOptions{Extra: "retention:\n  abandon_after: 1h\n"})
	ctx := context.Background()
	citizen := guestclient.New(g.base)
	_, err := citizen.StartSession(ctx)
	require.NoError(t, err)
	c, err := citizen.OpenCase(ctx, guestclient.OpenRequest{Department: "bauamt", Question: "Wie lange warte ich?", TxnID: "question-0001"})
	require.NoError(t, err)

	// idle returns the idle period the page is told and how far the
	// case's deadline lies after its last activity.
	idle := func() (period, deadline time.Duration) {
		var info struct {
			Idle struct {
				AbandonAfterSeconds int64 `json:"abandon_after_seconds"`
			} `json:"idle"`
		}
		resp, err := citizen.Get(ctx, "info?department=bauamt")
		require.NoError(t, err)
		require.NoError(t, resp.JSON(&info))
		var view struct {
			CreatedAt     time.Time  `json:"created_at"`
			LastCitizenAt *time.Time `json:"last_citizen_at"`
			AbandonAt     time.Time  `json:"abandon_at"`
		}
		resp, err = citizen.Get(ctx, "cases/"+c.ID)
		require.NoError(t, err)
		require.NoError(t, resp.JSON(&view))
		last := view.CreatedAt
		if view.LastCitizenAt != nil && view.LastCitizenAt.After(last) {
			last = *view.LastCitizenAt
		}
		return time.Duration(info.Idle.AbandonAfterSeconds) * time.Second, view.AbandonAt.Sub(last).Round(time.Second)
	}
	period, deadline := idle()
	require.Equal(t, time.Hour, period)
	require.Equal(t, time.Hour, deadline)

	g.editConfig(t, "abandon_after: 1h", "abandon_after: 2h")
	require.NoError(t, g.proc.cmd.Process.Signal(syscall.SIGHUP))
	tesths.WaitFor(t, 30*time.Second, "the guest chat to use the reloaded abandon_after", func() error {
		if period, deadline := idle(); period != 2*time.Hour || deadline != 2*time.Hour {
			return fmt.Errorf("the page is told %s, the case's deadline is %s after its last activity", period, deadline)
		}
		return nil
	})
}
