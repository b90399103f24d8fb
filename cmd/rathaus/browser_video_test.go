package main_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/internal/browsertest"
	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/video/livekit/livekittest"
)

// TestBrowserVideoCall (issue 14, acceptance 1, 2 and 8): in real Chromium
// with fake camera and microphone, against the real binary, Synapse and
// then Dendrite, and the embedded media server. The citizen knocks from
// the guest chat before any caseworker is there and still waits after Anna
// claimed the case, joined the room and started the call with
// `!rathaus video`. Anna's staff call page (the room widget, in a host page
// with the real ClientWidgetApi) signs in with her OpenID token and joins;
// `!rathaus video admit` from her Matrix client lets the citizen in. Both
// pages decode the other's video within 5 s (the citizen within 3 s of the
// admission), at 15 frames/s or more over 10 s without loss, and receive
// audio; the staff page's request to mute makes the citizen's page ask (it
// never mutes by itself); the staff page removes the citizen, whose peer
// connection closes within 2 s; the citizen comes back with sound only,
// is let in on the staff page and heard, and hangs up; knocking again, the
// citizen is turned away and the page says so. The caseworker shares the
// screen and stops; the citizen sees it and then not. A citizen ghost's, a non-member's and a forged
// server's token are refused at the staff page. Opened outside a widget
// host (from a client without widgets), the staff page signs Anna in at
// her homeserver with her password and, on Synapse, with a login token as
// SSO hands it back, and shows the call; a wrong password is named, a
// signed-in non-member refused, and the devices these sign-ins made are
// logged out again. axe checks the device check, the lobby, the sign-in
// and both call views; the whole flow runs by keyboard.
func TestBrowserVideoCall(t *testing.T) {
	for _, kind := range []tesths.Kind{tesths.Synapse, tesths.Dendrite} {
		t.Run(string(kind), func(t *testing.T) { browserVideoCall(t, kind, "embedded") })
	}
	// The same test with the calls on LiveKit (issue 15, acceptance 4).
	t.Run("livekit", func(t *testing.T) { browserVideoCall(t, tesths.Synapse, "livekit") })
}

// liveKitVideo starts LiveKit with its webhooks to rathaus at base and
// returns the video section that runs the calls on it.
func liveKitVideo(t *testing.T, base string) string {
	t.Helper()
	lk := livekittest.Start(t, livekittest.Options{WebhookURL: base + "/video/v1/livekit/webhook"})
	return fmt.Sprintf("video:\n  enabled: true\n  backend: livekit\n  livekit:\n    url: %s\n    api_key: %s\n    api_secret: %s\n    matrix_rtc: true\n",
		lk.URL, livekittest.Key, livekittest.Secret)
}

func browserVideoCall(t *testing.T, kind tesths.Kind, backend string) {
	t.Helper()
	var annaID id.UserID
	evil := forgedOpenIDServer(t, &annaID)

	opts := guestOptions{
		Extra: "widgets:\n  openid:\n    allow_networks: [\"127.0.0.0/8\"]\n    insecure_skip_verify_loopback: true\n",
		Late:  "video:\n  enabled: true\n  ice:\n    udp: 127.0.0.1:0\n    tcp: \"\"\n    include_loopback: true\n",
	}
	if backend == "livekit" {
		opts.Late, opts.LateFor = "", liveKitVideo
	}
	g := startGuestSetup(t, kind, opts)
	annaID = g.anna.UserID
	ctx := context.Background()

	hostSrv := widgetHost(t)

	openID := func(cli *mautrix.Client) map[string]any {
		resp, err := cli.RequestOpenIDToken(ctx)
		require.NoError(t, err)
		return map[string]any{"access_token": resp.AccessToken, "token_type": "Bearer",
			"matrix_server_name": resp.MatrixServerName, "expires_in": 3600}
	}
	command := func(room id.RoomID, text string) string {
		sent, err := g.anna.SendText(ctx, room, text)
		require.NoError(t, err)
		var reply string
		tesths.WaitFor(t, 30*time.Second, "the bot's answer to "+text, func() error {
			msgs, err := g.anna.Messages(ctx, room, "", "", mautrix.DirectionBackward, nil, 30)
			if err != nil {
				return err
			}
			for _, evt := range msgs.Chunk {
				_ = evt.Content.ParseRaw(evt.Type)
				if evt.Type == event.EventMessage && evt.Content.AsMessage().RelatesTo.GetReplyTo() == sent.EventID {
					reply = evt.Content.AsMessage().Body
					return nil
				}
			}
			return fmt.Errorf("no answer yet")
		})
		return reply
	}

	s := browsertest.Start(t, "e2e/videocall.mjs", nil)
	s.Expect("ready", browserStep)
	stranger, _, strangerPassword := g.hs.RegisterUser(t, "stefan", false)
	// What SSO hands the page on its way back: a login token. Synapse
	// issues one for an existing session (login_via_existing_session);
	// Dendrite cannot, so there the page is tested with passwords only.
	loginToken := ""
	if kind == tesths.Synapse {
		var resp struct {
			LoginToken string `json:"login_token"`
		}
		_, err := g.anna.MakeRequest(ctx, "POST", g.anna.BuildURL(mautrix.ClientURLPath{"v1", "login", "get_token"}), map[string]any{}, &resp)
		require.NoError(t, err)
		require.NotEmpty(t, resp.LoginToken)
		loginToken = resp.LoginToken
	}
	// VP8 on Dendrite, H.264 on Synapse: both codecs through the
	// server in one run.
	codec := "VP8"
	if kind == tesths.Synapse && backend == "embedded" {
		codec = "H264"
	}
	s.Continue("ready", map[string]any{"base": g.base, "host": hostSrv.URL + "/", "userId": g.anna.UserID, "codec": codec,
		"signIn": map[string]any{"user": g.anna.UserID.Localpart(), "password": g.annaPassword,
			"strangerUser": stranger.UserID.String(), "strangerPassword": strangerPassword, "loginToken": loginToken},
		"tokens": map[string]any{
			"anna": openID(g.anna), "stranger": openID(stranger),
			"evil": map[string]any{"access_token": "forged-token-0002", "token_type": "Bearer",
				"matrix_server_name": strings.TrimPrefix(evil.URL, "https://"), "expires_in": 3600}}})

	// The citizen waits before anybody is there; then Anna claims the case,
	// joins its room and starts the call.
	waiting := s.Expect("waiting", 2*time.Minute)
	reference, _ := waiting["reference"].(string)
	room := g.claim(t, reference)
	g.waitHandling(t, room)
	reply := command(room, "!rathaus video")
	require.Contains(t, reply, "Videoberatung läuft — Beitreten: "+g.base+"/widgets/video/?roomId=")
	var widget protocol.WidgetContent
	require.NoError(t, g.anna.StateEvent(ctx, room, protocol.WidgetEventType, "de.rathaus.video", &widget))
	assert.Contains(t, widget.URL, "roomId=$matrix_room_id")

	// The ghost's token, now that the room and its ghost exist.
	ghost := g.ghostIn(t, room)
	ghostCli, err := mautrix.NewClient(g.hs.URL, ghost, asToken(t, g.cfgPath))
	require.NoError(t, err)
	ghostCli.SetAppServiceUserID = true
	s.Continue("waiting", map[string]any{"widget": widget, "room": room, "ghostToken": openID(ghostCli)})

	s.Expect("staff-in-call", 2*time.Minute)
	assert.Contains(t, command(room, "!rathaus video admit"), "Eingelassen")
	s.Continue("staff-in-call", nil)

	m := s.Expect("measured", time.Minute)
	callMember := event.Type{Type: "org.matrix.msc3401.call.member", Class: event.StateEventType}
	membership := func() map[string]any {
		var content map[string]any
		if err := g.anna.StateEvent(ctx, room, callMember, "_"+ghost.String()+"_RATHAUSVIDEO", &content); err != nil {
			return nil
		}
		return content
	}
	if backend == "livekit" {
		// The citizen is a member of the call for Matrix clients too:
		// their ghost's call membership names rathaus as the focus.
		tesths.WaitFor(t, 10*time.Second, "the ghost's call membership", func() error {
			if mem := membership(); mem["device_id"] != "RATHAUSVIDEO" {
				return fmt.Errorf("membership %v", mem)
			}
			return nil
		})
		foci, _ := membership()["foci_preferred"].([]any)
		require.Len(t, foci, 1)
		assert.Equal(t, g.base+"/matrixrtc", foci[0].(map[string]any)["livekit_service_url"])
	}
	t.Logf("decoding after admission: citizen %v ms, staff %v ms; frames/s %v; lost %v; audio %v",
		m["citizenDecodedAfter"], m["staffDecodedAfter"], m["fps"], m["lost"], m["audio"])
	assert.Less(t, m["citizenDecodedAfter"].(float64), 3000.0, "the citizen decodes soon after the admission")
	fps := m["fps"].(map[string]any)
	assert.GreaterOrEqual(t, fps["citizen"].(float64), 15.0)
	assert.GreaterOrEqual(t, fps["staff"].(float64), 15.0)
	t.Logf("codecs received: %v", m["codecs"])
	for who, got := range m["codecs"].(map[string]any) {
		var video []string
		for _, c := range got.([]any) {
			if strings.HasPrefix(c.(string), "video/") {
				video = append(video, c.(string))
			}
		}
		require.NotEmpty(t, video, who)
		for _, c := range video {
			assert.Equal(t, "video/"+codec, c, "%s receives %s", who, codec)
		}
	}
	lost := m["lost"].(map[string]any)
	assert.Zero(t, lost["citizen"])
	assert.Zero(t, lost["staff"])
	audio := m["audio"].(map[string]any)
	for _, who := range []string{"citizen", "staff"} {
		a := audio[who].([]any)
		assert.Positive(t, a[0].(float64), "%s receives audio packets", who)
		assert.Positive(t, a[1].(float64), "%s hears sound (audio energy)", who)
	}
	s.Continue("measured", nil)

	k := s.Expect("kicked", time.Minute)
	assert.Less(t, k["closedAfter"].(float64), 2000.0)
	if backend == "livekit" {
		tesths.WaitFor(t, 5*time.Second, "the ghost's call membership to be cleared", func() error {
			if mem := membership(); len(mem) != 0 {
				return fmt.Errorf("membership %v", mem)
			}
			return nil
		})
		assert.Contains(t, g.proc.log(), `"delayed_leave":true`, "on Synapse, the homeserver would clear the membership if rathaus stopped")
		assert.Contains(t, g.proc.log(), "Cleared the citizen's call membership")
	}
	s.Continue("kicked", nil)

	done := s.Expect("done", 2*time.Minute)
	for _, check := range done["a11y"].([]any) {
		c := check.(map[string]any)
		t.Logf("axe %-30s %v rules passed", c["label"], c["passes"])
	}
	s.Continue("done", nil)
	s.Wait(browserStep)

	// The sign-ins outside the widget host logged their devices out again.
	devices, err := g.anna.GetDevicesInfo(ctx)
	require.NoError(t, err)
	for _, d := range devices.Devices {
		assert.NotContains(t, d.DisplayName, "rathaus", "the sign-in's device is gone")
	}

	bodies := g.roomBodies(t, room, "")
	var lines []string
	for b := range bodies {
		if strings.HasPrefix(b, "Videoberatung") || strings.HasPrefix(b, "Bürger:in wartet") {
			lines = append(lines, b)
		}
	}
	t.Logf("the call's lines in the case room: %q", lines)
	assert.NotContains(t, g.proc.log(), "Ich verstehe den Bauplan nicht", "no message text in the log")
}
