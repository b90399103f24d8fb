package calls_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/internal/app"
	"github.com/rathaus-de/rathaus/internal/app/apptest"
	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/video"
	"github.com/rathaus-de/rathaus/video/signal"
	"github.com/rathaus-de/rathaus/video/videotest"
)

// TestCallsInCaseRooms (issue 14, acceptance 2 and 3 with synthetic media
// clients; the browser test runs the same with pages): against a real
// homeserver, a citizen who knocks before any caseworker keeps waiting
// after the caseworker joined and started the call; a media join without
// admission is impossible; a 👍 on the waiting notice admits, and media
// flows both ways; `!rathaus video kick`, the ghost leaving the room and
// the case closing each take the participant out within 2 s, and the old
// grant no longer works; `!rathaus video deny` is what the citizen sees.
func TestCallsInCaseRooms(t *testing.T) {
	apptest.EachHomeserver(t, callsInCaseRooms)
}

type fixture struct {
	t    *testing.T
	env  *apptest.Env
	anna apptest.StaffUser
	bot  id.UserID
}

func (f *fixture) command(room id.RoomID, text string) string {
	f.t.Helper()
	sent, err := f.anna.Cli.SendText(context.Background(), room, text)
	require.NoError(f.t, err)
	return apptest.BotReplyTo(f.t, f.anna.Cli, room, f.bot, sent.EventID)
}

func (f *fixture) reload(c *cases.Case) *cases.Case {
	f.t.Helper()
	fresh, err := f.env.App.Cases().Case(context.Background(), c.ID)
	require.NoError(f.t, err)
	return fresh
}

func (f *fixture) dial(info *video.JoinInfo, o videotest.Options) (*videotest.Client, error) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := videotest.Dial(ctx, info.URL, info.Token, o)
	if c != nil {
		f.t.Cleanup(c.Close)
	}
	return c, err
}

// gone waits up to 2 s for the media client's peer connection to close.
func gone(t *testing.T, c *videotest.Client, what string) {
	t.Helper()
	start := time.Now()
	select {
	case <-c.Gone:
		t.Logf("%s: peer connection closed after %s", what, time.Since(start).Round(time.Millisecond))
	case <-time.After(2 * time.Second):
		t.Fatalf("%s: the peer connection is still open after 2 s", what)
	}
}

// noticeOf waits for the bot's notice of a kind in the room and returns it.
func (f *fixture) noticeOf(room id.RoomID, kind string) *event.Event {
	f.t.Helper()
	var found *event.Event
	tesths.WaitFor(f.t, 30*time.Second, "a "+kind+" notice", func() error {
		msgs, err := f.env.App.AppService().BotIntent().Messages(context.Background(), room, "", "", mautrix.DirectionBackward, nil, 50)
		if err != nil {
			return err
		}
		for _, evt := range msgs.Chunk {
			if evt.Sender == f.bot && evt.Type == event.EventMessage {
				if k, _ := evt.Content.Raw[protocol.NoticeKindKey].(string); k == kind {
					found = evt
					return nil
				}
			}
		}
		return fmt.Errorf("no %s notice among %d events", kind, len(msgs.Chunk))
	})
	return found
}

func callsInCaseRooms(t *testing.T, kind tesths.Kind) {
	t.Helper()
	ctx := context.Background()
	l, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + l.Addr().String()
	var anna apptest.StaffUser
	env, _ := apptest.Launch(t, apptest.Options{Homeservers: []tesths.Kind{kind}, Configure: func(hss []*tesths.Homeserver) string {
		cli, uid, _ := hss[0].RegisterUser(t, "anna", false)
		anna = apptest.StaffUser{Cli: cli, ID: uid}
		return "departments:\n  - id: bauamt\n    name: Bauamt\n    staff:\n" + fmt.Sprintf("      - user: %q\n        role: caseworker\n", uid)
	}, Tweak: func(cfg *config.Config, opts *app.Options) {
		cfg.GuestChat.Enabled, cfg.GuestChat.Listen, cfg.GuestChat.PublicURL = true, l.Addr().String(), base
		cfg.Authority.PrivacyURL = "https://pruefheim.de/datenschutz"
		cfg.Video.Enabled = true
		cfg.Video.ICE = config.VideoICEConfig{UDP: "127.0.0.1:0", TCP: "127.0.0.1:0", IncludeLoopback: true}
		cfg.Video.EndWhenEmpty = 3 * time.Second
		cfg.Video.TURN = config.VideoTURNConfig{Enabled: true, UDP: "127.0.0.1:0", TCP: "127.0.0.1:0", RelayIP: "127.0.0.1",
			AllowPeers: []string{"127.0.0.0/8"}}
		require.NoError(t, cfg.Validate())
		opts.GuestListener = l
	}})
	f := &fixture{t: t, env: env, anna: anna, bot: env.Cfg.BotUserID()}
	calls := env.App.Calls()
	require.NotNil(t, calls)

	// What the guest page's event stream hears: every change of a
	// citizen's state that the page did not make itself.
	watched := make(chan protocol.CaseID, 64)
	defer calls.WatchCitizens(func(c protocol.CaseID) {
		select {
		case watched <- c:
		default:
		}
	})()
	told := func(c protocol.CaseID, what string) {
		t.Helper()
		deadline := time.After(2 * time.Second)
		for {
			select {
			case got := <-watched:
				if got == c {
					return
				}
			case <-deadline:
				t.Fatalf("the watchers were not told of %s", what)
			}
		}
	}

	c, err := env.App.Cases().OpenCase(ctx, cases.OpenCaseRequest{Department: "bauamt", Topic: "Bauplan"})
	require.NoError(t, err)

	// The citizen knocks before any caseworker is there.
	v, err := calls.CitizenKnock(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, video.CitizenWaiting, v.State)
	assert.Equal(t, 1, v.Position)
	assert.Nil(t, v.Join, "no grant before admission")
	waiting := f.noticeOf(c.RoomID, protocol.NoticeVideoWaiting)
	assert.Contains(t, waiting.Content.Raw["body"], "!rathaus video admit")

	staffRoom, err := anna.Cli.ResolveAlias(ctx, id.NewRoomAlias("_rathaus_bauamt", env.Cfg.Homeserver.ServerName))
	require.NoError(t, err)
	_, err = anna.Cli.JoinRoomByID(ctx, staffRoom.RoomID)
	require.NoError(t, err)
	assert.Contains(t, f.command(staffRoom.RoomID, "!rathaus claim "+c.Reference), "ist jetzt Ihr Fall")
	tesths.WaitFor(t, 30*time.Second, "anna to join the case room", func() error {
		_, err := anna.Cli.JoinRoomByID(ctx, c.RoomID)
		return err
	})
	reply := f.command(c.RoomID, "!rathaus video")
	assert.Contains(t, reply, "Videoberatung läuft — Beitreten: "+base+"/widgets/video/?roomId=")
	f.noticeOf(c.RoomID, protocol.NoticeVideoStarted)
	var widget protocol.WidgetContent
	require.NoError(t, anna.Cli.StateEvent(ctx, c.RoomID, protocol.WidgetEventType, "de.rathaus.video", &widget))
	assert.Contains(t, widget.URL, base+"/widgets/video/?widgetId=")

	staffJoin, err := calls.StaffJoin(ctx, c.RoomID, anna.ID)
	require.NoError(t, err)
	staff, err := f.dial(&staffJoin, videotest.Options{Video: true, Audio: true})
	require.NoError(t, err)
	v, err = calls.CitizenView(ctx, f.reload(c))
	require.NoError(t, err)
	assert.Equal(t, video.CitizenWaiting, v.State, "a caseworker in the room and the call does not admit the citizen")
	assert.True(t, v.StaffPresent)
	assert.Nil(t, v.Join)

	// A 👍 on the waiting notice admits.
	for len(watched) > 0 {
		<-watched // the knock
	}
	_, err = anna.Cli.SendReaction(ctx, c.RoomID, waiting.ID, "👍")
	require.NoError(t, err)
	told(c.ID, "the admission")
	tesths.WaitFor(t, 30*time.Second, "the citizen to be admitted", func() error {
		v, err = calls.CitizenView(ctx, f.reload(c))
		if err == nil && v.State != video.CitizenAdmitted {
			err = fmt.Errorf("state %s", v.State)
		}
		return err
	})
	require.NotNil(t, v.Join)
	require.Len(t, v.Join.TURN, 1, "TURN credentials come with the grant")
	assert.Regexp(t, `^turn:127\.0\.0\.1:\d+\?transport=udp$`, v.Join.TURN[0].URLs[0])
	assert.Regexp(t, `^\d+:[0-9a-f]{8}-[0-9a-f]{18}$`, v.Join.TURN[0].Username, "an opaque TURN username")
	admitted := time.Now()
	citizen, err := f.dial(v.Join, videotest.Options{Video: true, Audio: true})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return citizen.Total() > 50 && staff.Total() > 50 }, 3*time.Second, 20*time.Millisecond,
		"media both ways within 3 s of admission: citizen %v %s %v, staff %v %s %v", citizen.Received(), citizen.PC.ConnectionState(), citizen.Messages(), staff.Received(), staff.PC.ConnectionState(), staff.Messages())
	t.Logf("media both ways %s after admission", time.Since(admitted).Round(time.Millisecond))
	f.noticeOf(c.RoomID, protocol.NoticeVideoAdmitted)

	// Kick by command.
	assert.Contains(t, f.command(c.RoomID, "!rathaus video kick"), "Entfernt")
	gone(t, citizen, "kick")
	require.Eventually(t, func() bool { return citizen.ClosedReason() == signal.ReasonKicked }, 2*time.Second, 10*time.Millisecond, "the kicked reason")
	_, err = f.dial(v.Join, videotest.Options{})
	require.ErrorIs(t, err, videotest.ErrRefused, "the kicked citizen's grant no longer works")

	// Knock again, admitted by command; then the ghost leaves the room.
	_, err = calls.CitizenKnock(ctx, f.reload(c))
	require.NoError(t, err)
	assert.Contains(t, f.command(c.RoomID, "!rathaus video admit"), "Eingelassen")
	v, err = calls.CitizenView(ctx, f.reload(c))
	require.NoError(t, err)
	require.Equal(t, video.CitizenAdmitted, v.State)
	// This time the citizen's network lets no UDP through to the media
	// port: all media goes through the TURN server, with the grant's
	// credentials.
	admitted = time.Now()
	citizen, err = f.dial(v.Join, videotest.Options{Video: true, ICEServers: videotest.ICEServers(v.Join.TURN), RelayOnly: true})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return citizen.Total() > 20 }, 5*time.Second, 20*time.Millisecond)
	t.Logf("media through TURN %s after admission", time.Since(admitted).Round(time.Millisecond))
	local, ok := citizen.SelectedLocal()
	require.True(t, ok)
	assert.Equal(t, webrtc.ICECandidateTypeRelay, local.CandidateType, "the citizen's media runs through the TURN relay")
	_, err = env.App.AppService().Intent(c.Ghost).LeaveRoom(ctx, c.RoomID)
	require.NoError(t, err)
	gone(t, citizen, "the ghost left the room")
	_, err = f.dial(v.Join, videotest.Options{})
	require.ErrorIs(t, err, videotest.ErrRefused, "the grant of a citizen who left the room no longer works")

	// Another case: denied by command; then the case closes under the
	// caseworker's call.
	c2, err := env.App.Cases().OpenCase(ctx, cases.OpenCaseRequest{Department: "bauamt", Topic: "Frage"})
	require.NoError(t, err)
	_, err = calls.CitizenKnock(ctx, c2)
	require.NoError(t, err)
	assert.Contains(t, f.command(staffRoom.RoomID, "!rathaus claim "+c2.Reference), "ist jetzt Ihr Fall")
	tesths.WaitFor(t, 30*time.Second, "anna to join the second case room", func() error {
		_, err := anna.Cli.JoinRoomByID(ctx, c2.RoomID)
		return err
	})
	assert.Contains(t, f.command(c2.RoomID, "!rathaus video deny"), "Abgelehnt")
	told(c2.ID, "the denial")
	v, err = calls.CitizenView(ctx, f.reload(c2))
	require.NoError(t, err)
	assert.Equal(t, video.CitizenDenied, v.State)
	f.noticeOf(c2.RoomID, protocol.NoticeVideoDenied)

	j2, err := calls.StaffJoin(ctx, c2.RoomID, anna.ID)
	require.NoError(t, err)
	staff2, err := f.dial(&j2, videotest.Options{Video: true})
	require.NoError(t, err)
	assert.Contains(t, f.command(c2.RoomID, "!rathaus close"), "")
	gone(t, staff2, "the case closed")
	require.Eventually(t, func() bool { return staff2.ClosedReason() == signal.ReasonEnded }, 2*time.Second, 10*time.Millisecond, "the ended reason")
	_, err = f.dial(&j2, videotest.Options{})
	require.ErrorIs(t, err, videotest.ErrRefused, "no grant works after the case closed")
	summary := f.noticeOf(c2.RoomID, protocol.NoticeVideoEnded)
	assert.Contains(t, summary.Content.Raw["body"], "Teilgenommen: "+anna.ID.String())

	// A third case: everyone hangs up without ending the call; it ends by
	// itself after video.end_when_empty, with its summary.
	c3, err := env.App.Cases().OpenCase(ctx, cases.OpenCaseRequest{Department: "bauamt", Topic: "Antrag"})
	require.NoError(t, err)
	assert.Contains(t, f.command(staffRoom.RoomID, "!rathaus claim "+c3.Reference), "ist jetzt Ihr Fall")
	tesths.WaitFor(t, 30*time.Second, "anna to join the third case room", func() error {
		_, err := anna.Cli.JoinRoomByID(ctx, c3.RoomID)
		return err
	})
	j3, err := calls.StaffJoin(ctx, c3.RoomID, anna.ID)
	require.NoError(t, err)
	staff3, err := f.dial(&j3, videotest.Options{Video: true})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		v3, err := calls.StaffView(ctx, c3.RoomID, anna.ID)
		return err == nil && len(v3.Participants) == 1
	}, 5*time.Second, 20*time.Millisecond, "anna in the third case's call")
	staff3.Close()
	hungUp := time.Now()
	ended := f.noticeOf(c3.RoomID, protocol.NoticeVideoEnded)
	t.Logf("the empty call ended %s after the last participant left", time.Since(hungUp).Round(100*time.Millisecond))
	assert.Contains(t, ended.Content.Raw["body"], "niemand mehr im Anruf")
	assert.Contains(t, ended.Content.Raw["body"], "Teilgenommen: "+anna.ID.String())
	v3, err := calls.StaffView(ctx, c3.RoomID, anna.ID)
	require.NoError(t, err)
	assert.False(t, v3.Running, "the call is over")

	assert.False(t, strings.Contains(env.Log(), "Bauplan"), "no case content in the log")
}
