package calls_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/internal/app"
	"github.com/rathaus-de/rathaus/internal/app/apptest"
	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/video"
	"github.com/rathaus-de/rathaus/video/livekit"
	"github.com/rathaus-de/rathaus/video/livekit/livekittest"
)

// TestLobbyOnLiveKit is issue 15's acceptance 3, with real rathaus,
// Synapse, LiveKit and LiveKit clients (lkpeer): no token before
// admission; kicked, or leaving the case room, the participant is out of
// LiveKit within 2 s, and a token minted before does not let them stay.
func TestLobbyOnLiveKit(t *testing.T) {
	ctx := context.Background()
	l, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + l.Addr().String()
	lk := livekittest.Start(t, livekittest.Options{WebhookURL: base + "/video/v1/livekit/webhook"})
	var anna apptest.StaffUser
	env, _ := apptest.Launch(t, apptest.Options{Homeservers: []tesths.Kind{tesths.Synapse}, Configure: func(hss []*tesths.Homeserver) string {
		cli, uid, _ := hss[0].RegisterUser(t, "anna", false)
		anna = apptest.StaffUser{Cli: cli, ID: uid}
		return "departments:\n  - id: bauamt\n    name: Bauamt\n    staff:\n" + fmt.Sprintf("      - user: %q\n        role: caseworker\n", uid)
	}, Tweak: func(cfg *config.Config, opts *app.Options) {
		cfg.GuestChat.Enabled, cfg.GuestChat.Listen, cfg.GuestChat.PublicURL = true, l.Addr().String(), base
		cfg.Authority.PrivacyURL = "https://pruefheim.de/datenschutz"
		cfg.Video.Enabled, cfg.Video.Backend = true, "livekit"
		cfg.Video.LiveKit = config.VideoLiveKitConfig{URL: lk.URL, APIKey: livekittest.Key, APISecret: livekittest.Secret, MatrixRTC: true}
		require.NoError(t, cfg.Validate())
		opts.GuestListener = l
	}})
	f := &fixture{t: t, env: env, anna: anna, bot: env.Cfg.BotUserID()}
	calls := env.App.Calls()
	creds := livekit.Credentials{Key: livekittest.Key, Secret: []byte(livekittest.Secret)}

	c, err := env.App.Cases().OpenCase(ctx, cases.OpenCaseRequest{Department: "bauamt", Topic: "Bauplan"})
	require.NoError(t, err)
	v, err := calls.CitizenKnock(ctx, c)
	require.NoError(t, err)
	assert.Nil(t, v.Join, "no token before admission")

	staffRoom, err := anna.Cli.ResolveAlias(ctx, id.NewRoomAlias("_rathaus_bauamt", env.Cfg.Homeserver.ServerName))
	require.NoError(t, err)
	_, err = anna.Cli.JoinRoomByID(ctx, staffRoom.RoomID)
	require.NoError(t, err)
	assert.Contains(t, f.command(staffRoom.RoomID, "!rathaus claim "+c.Reference), "ist jetzt Ihr Fall")
	tesths.WaitFor(t, 30*time.Second, "anna to join the case room", func() error {
		_, err := anna.Cli.JoinRoomByID(ctx, c.RoomID)
		return err
	})
	staffJoin, err := calls.StaffJoin(ctx, c.RoomID, anna.ID)
	require.NoError(t, err)
	assert.Equal(t, "livekit", staffJoin.Backend)
	staff := livekittest.Join(t, staffJoin.URL, staffJoin.Token, livekittest.PeerOptions{Publish: true})
	staff.Await("connected", 15*time.Second)
	v, err = calls.CitizenView(ctx, f.reload(c))
	require.NoError(t, err)
	assert.Equal(t, video.CitizenWaiting, v.State, "a caseworker in the call does not admit the citizen")
	assert.Nil(t, v.Join, "no token before admission")

	assert.Contains(t, f.command(c.RoomID, "!rathaus video admit"), "Eingelassen")
	v, err = calls.CitizenView(ctx, f.reload(c))
	require.NoError(t, err)
	require.NotNil(t, v.Join)
	claims, err := livekit.Verify(creds, v.Join.Token, time.Now())
	require.NoError(t, err)
	assert.Equal(t, c.Ghost.String()+":RATHAUSVIDEO", claims.Subject, "the citizen joins as the ghost's call device")
	assert.False(t, claims.Video.RoomCreate)
	assert.Equal(t, livekit.RoomAlias(c.RoomID.String(), "m.call#ROOM"), claims.Video.Room, "the room Element Call computes")
	citizen := livekittest.Join(t, v.Join.URL, v.Join.Token, livekittest.PeerOptions{Publish: true})
	citizen.Await("connected", 15*time.Second)
	assert.Equal(t, anna.ID.String(), citizen.Await("packets", 10*time.Second).From, "the citizen receives the caseworker")
	assert.Equal(t, claims.Subject, staff.Await("packets", 10*time.Second).From, "the caseworker receives the citizen")

	// Kicked by command: out within 2 s; the old token cannot stay.
	kicked := time.Now()
	assert.Contains(t, f.command(c.RoomID, "!rathaus video kick"), "Entfernt")
	citizen.Await("disconnected", 2*time.Second+time.Since(kicked))
	t.Logf("the kicked citizen was out of LiveKit %s after the command", time.Since(kicked).Round(time.Millisecond))
	again := livekittest.Join(t, v.Join.URL, v.Join.Token, livekittest.PeerOptions{})
	outAgain(t, calls, c.RoomID, anna.ID, "citizen", again)

	// The caseworker leaves the case room: out within 2 s, and their
	// token does not let them back.
	left := time.Now()
	_, err = anna.Cli.LeaveRoom(ctx, c.RoomID)
	require.NoError(t, err)
	staff.Await("disconnected", 2*time.Second)
	t.Logf("the caseworker who left the room was out of LiveKit %s later", time.Since(left).Round(time.Millisecond))
	back := livekittest.Join(t, staffJoin.URL, staffJoin.Token, livekittest.PeerOptions{})
	select {
	case <-back.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("the caseworker who left the room stays in the call with the old token")
	}
}

// outAgain: a peer joining with an outdated token is out of the call
// (rathaus's view) within 2 s of showing up, or never shows up.
func outAgain(t *testing.T, calls interface {
	StaffView(context.Context, id.RoomID, id.UserID) (*video.StaffView, error)
}, room id.RoomID, staff id.UserID, who video.Identity, peer *livekittest.Peer) {
	t.Helper()
	var seen time.Time
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		v, err := calls.StaffView(context.Background(), room, staff)
		require.NoError(t, err)
		in := false
		for _, p := range v.Participants {
			in = in || p.Identity == who
		}
		switch {
		case in && seen.IsZero():
			seen = time.Now()
		case !in && !seen.IsZero():
			t.Logf("%s rejoined with an outdated token and was removed within %s", who, time.Since(seen).Round(10*time.Millisecond))
			assert.Less(t, time.Since(seen), 2*time.Second)
			return
		case !in:
			select {
			case <-peer.Exited():
				t.Logf("%s could not rejoin at all", who)
				return
			default:
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s stays in the call with an outdated token", who)
}
