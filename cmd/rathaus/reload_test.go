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

	"github.com/rathaus-de/rathaus/internal/tesths"
)

// TestSIGHUPReloadsDepartments: the running binary applies a changed config
// on SIGHUP, and refuses an invalid one while keeping the running config.
func TestSIGHUPReloadsDepartments(t *testing.T) {
	setup := setupRathaus(t, func(serverName string) string {
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
