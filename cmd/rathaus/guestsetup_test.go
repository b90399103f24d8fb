package main_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/internal/tesths"
)

// guestSetup is the real rathaus binary with its guest chat, a
// homeserver, and Anna, caseworker of the Bauamt, in her staff room.
type guestSetup struct {
	*rathausSetup
	base string // the guest chat's public URL
	anna *mautrix.Client
	// annaPassword signs Anna in from a browser (the staff call page
	// outside a widget host).
	annaPassword string
	staffRoom    id.RoomID
}

// guestOptions adjust startGuestSetup.
type guestOptions struct {
	// ChatYAML is added to the guest_chat section (indented by two).
	ChatYAML string
	// Extra is YAML added at the end of the config (e.g. a retention
	// section).
	Extra string
	// Departments is YAML for more departments (list items indented by
	// two); Anna's Bauamt is always there.
	Departments string
	// Bauamt is YAML added to the Bauamt's entry (keys indented by four),
	// e.g. its office hours; without any, it is never open.
	Bauamt string
	// Authority is added to the authority section (indented by two).
	Authority string
	// Late is top-level YAML added when the guest chat is switched on, for
	// sections that need it (video): the registration is generated from a
	// config without the guest chat, which would refuse them.
	Late string
	// LateFor, if set, is added after Late and may use the chat's public
	// base URL (e.g. for a media server's webhooks to it).
	LateFor func(t *testing.T, base string) string
	// Proxy, if set, receives the holding proxy put between rathaus and
	// the homeserver.
	Proxy **holdingProxy
	// RTCDiscovery has the homeserver (Synapse) name rathaus's MatrixRTC
	// service, at the chat's base URL + /matrixrtc, as its transport
	// (matrix_rtc.transports).
	RTCDiscovery bool
}

// startGuestSetup starts a homeserver of kind and rathaus with its guest
// chat, and has Anna join her staff room.
func startGuestSetup(t *testing.T, kind tesths.Kind, opts guestOptions) *guestSetup {
	t.Helper()
	// The chat's port is picked last, just before rathaus binds it, unless
	// the homeserver must name rathaus's MatrixRTC service (on the chat's
	// listener) to its clients: then it is picked first (FreePorts hands
	// it to no homeserver started meanwhile).
	var chatYAML, base string
	var hsOpts []func(*tesths.Options)
	if opts.RTCDiscovery {
		chatYAML, base = guestChatConfig(t)
		hsOpts = append(hsOpts, func(o *tesths.Options) { o.RTCTransports = []string{base + "/matrixrtc"} })
	}
	setup := setupRathaus(t, kind, func(serverName string) string {
		return fmt.Sprintf("departments:\n  - id: bauamt\n    name: Bauamt\n    services: [\"99108008000000\"]\n%s    staff:\n      - user: \"@anna:%s\"\n", opts.Bauamt, serverName) +
			opts.Departments + opts.Extra
	}, func(hsURL string) string {
		if opts.Proxy == nil {
			return hsURL
		}
		p, proxyURL := newHoldingProxy(t, hsURL)
		*opts.Proxy = p
		return proxyURL
	}, hsOpts...)
	authority := opts.Authority
	if !strings.Contains(authority, "privacy_url:") {
		// A public chat needs its privacy notice (check-config refuses it
		// otherwise).
		authority += "  privacy_url: https://bad-beispielheim.de/datenschutz\n"
	}
	setup.editConfig(t, "authority:\n", "authority:\n"+authority)
	anna, _, annaPassword := setup.hs.RegisterUser(t, "anna", false)
	// Picked before the homeserver started, another process (a homeserver
	// of a test running in parallel) could take the chat's port in
	// between.
	if base == "" {
		chatYAML, base = guestChatConfig(t)
	}
	late := opts.Late
	if opts.LateFor != nil {
		late += opts.LateFor(t, base)
	}
	setup.editConfig(t, "guest_chat:\n  enabled: false\n", chatYAML+opts.ChatYAML+late)
	g := &guestSetup{rathausSetup: setup, base: base, anna: anna, annaPassword: annaPassword}
	setup.proc.start(t)
	ctx := context.Background()
	staff, err := g.anna.ResolveAlias(ctx, id.NewRoomAlias("_rathaus_bauamt", setup.hs.ServerName))
	require.NoError(t, err)
	g.staffRoom = staff.RoomID
	_, err = g.anna.JoinRoomByID(ctx, g.staffRoom)
	require.NoError(t, err)
	return g
}

// claim claims a case as Anna and joins its room, which it returns.
func (g *guestSetup) claim(t *testing.T, ref string) id.RoomID {
	t.Helper()
	ctx := context.Background()
	_, err := g.anna.SendText(ctx, g.staffRoom, "!rathaus claim "+ref)
	require.NoError(t, err)
	var room id.RoomID
	tesths.WaitFor(t, 30*time.Second, "anna to be invited to the case room of "+ref, func() error {
		resp, err := g.anna.SyncRequest(ctx, 0, "", "", false, event.PresenceOffline)
		if err != nil {
			return err
		}
		for r, inv := range resp.Rooms.Invite {
			for _, evt := range inv.State.Events {
				_ = evt.Content.ParseRaw(evt.Type)
				if evt.Type == event.StateRoomName && strings.HasPrefix(evt.Content.AsRoomName().Name, ref) {
					room = r
					return nil
				}
			}
		}
		return fmt.Errorf("no invite yet")
	})
	_, err = g.anna.JoinRoomByID(ctx, room)
	require.NoError(t, err)
	return room
}

// ghostIn is the citizen's ghost among the room's members, as Anna sees
// them.
func (g *guestSetup) ghostIn(t *testing.T, room id.RoomID) id.UserID {
	t.Helper()
	members, err := g.anna.JoinedMembers(context.Background(), room)
	require.NoError(t, err)
	for u := range members.Joined {
		if strings.HasPrefix(u.Localpart(), "_rathaus_guest_") {
			return u
		}
	}
	t.Fatalf("no citizen's ghost in %s", room)
	return ""
}

// waitHandling waits until Anna has the handling power level in the room
// she claimed (the claim's power level change is asynchronous).
func (g *guestSetup) waitHandling(t *testing.T, room id.RoomID) {
	t.Helper()
	tesths.WaitFor(t, 30*time.Second, "Anna's power level after the claim", func() error {
		var levels event.PowerLevelsEventContent
		if err := g.anna.StateEvent(context.Background(), room, event.StatePowerLevels, "", &levels); err != nil {
			return err
		}
		if levels.GetUserLevel(g.anna.UserID) < 50 {
			return fmt.Errorf("still %d", levels.GetUserLevel(g.anna.UserID))
		}
		return nil
	})
}

// roomBodies counts the bodies of messages in a room not sent by Anna, as
// her client reads them.
func (g *guestSetup) roomBodies(t *testing.T, room id.RoomID, sender id.UserID) map[string]int {
	t.Helper()
	msgs, err := g.anna.Messages(context.Background(), room, "", "", mautrix.DirectionBackward, nil, 500)
	require.NoError(t, err)
	out := map[string]int{}
	for _, evt := range msgs.Chunk {
		if evt.Type == event.EventMessage && (sender == "" || evt.Sender == sender) {
			_ = evt.Content.ParseRaw(evt.Type)
			out[evt.Content.AsMessage().Body]++
		}
	}
	return out
}
