package main_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/internal/app/apptest"
	"github.com/rathaus-de/rathaus/internal/browsertest"
	"github.com/rathaus-de/rathaus/internal/tesths"
)

// TestNativeCallFromMatrixClient is issue 15's first acceptance point: a
// caseworker's own Matrix client, built on matrix-js-sdk's MatrixRTCSession
// and livekit-client as Element Call is, joins the case's call on LiveKit
// with a token from rathaus's MatrixRTC service and exchanges media with the
// citizen's page; it recognises the citizen by the ghost's call membership
// (tests/browser/e2e/nativecall.mjs). Synapse: MatrixRTC needs its
// delayed events.
func TestNativeCallFromMatrixClient(t *testing.T) {
	nativeCall(t, false)
}

// TestElementCallWidget is the same call with Element Call's own embedded
// build (@element-hq/element-call-embedded) hosted as a room widget by a
// matrix-js-sdk client, as Element Web hosts it (tests/browser/native/
// echost.mjs): Element Call finds rathaus in the ghost's call membership,
// gets its token from it and exchanges media with the citizen's page.
func TestElementCallWidget(t *testing.T) {
	nativeCall(t, true)
}

func nativeCall(t *testing.T, elementCall bool) {
	t.Helper()
	g := startGuestSetup(t, tesths.Synapse, guestOptions{
		Extra:   "widgets:\n  openid:\n    allow_networks: [\"127.0.0.0/8\"]\n    insecure_skip_verify_loopback: true\n",
		LateFor: liveKitVideo,
		// Element Call asks its host for the homeserver's transports
		// (MSC4143, through the widget API) and refuses to call without
		// one; the other client finds rathaus in the memberships.
		RTCDiscovery: elementCall,
	})
	ctx := context.Background()
	callMember := event.Type{Type: "org.matrix.msc3401.call.member", Class: event.StateEventType}

	s := browsertest.Start(t, "e2e/nativecall.mjs", nil)
	s.Expect("ready", browserStep)
	s.Continue("ready", map[string]any{"base": g.base, "homeserver": g.hs.URL, "userId": g.anna.UserID,
		"accessToken": g.anna.AccessToken, "deviceId": g.anna.DeviceID, "elementCall": elementCall})

	waiting := s.Expect("waiting", 2*time.Minute)
	room := g.claim(t, waiting["reference"].(string))
	g.waitHandling(t, room)
	for _, cmd := range []string{"!rathaus video", "!rathaus video admit"} {
		_, err := g.anna.SendText(ctx, room, cmd)
		require.NoError(t, err)
	}
	ghost := g.ghostIn(t, room)
	s.Continue("waiting", map[string]any{"room": room})

	s.Expect("citizen-in-call", time.Minute)
	s.Continue("citizen-in-call", nil)

	r := s.Expect("native-in-call", 2*time.Minute)
	if elementCall {
		assert.Positive(t, r["fps"].(float64), "Element Call decodes the citizen")
		// Element Call names the tile by the call membership it matched
		// the LiveKit participant to: the citizen's ghost.
		var member struct {
			Displayname string `json:"displayname"`
		}
		require.NoError(t, g.anna.StateEvent(ctx, room, event.StateMember, ghost.String(), &member))
		require.NotEmpty(t, member.Displayname)
		assert.Contains(t, r["text"], member.Displayname, "Element Call shows the citizen's tile under the ghost's name")
		// It found its own transport where only the homeserver names it
		// (Synapse's matrix_rtc.transports, relayed by the host).
		transports, _ := r["transports"].([]any)
		require.Len(t, transports, 1, "the homeserver's transports")
		assert.Equal(t, g.base+"/matrixrtc", transports[0].(map[string]any)["livekit_service_url"])
		t.Logf("Element Call: the citizen's tile is %q; the homeserver's transports %v", member.Displayname, transports)
		t.Logf("Element Call: decodes the citizen %v ms after it was opened, %v frames/s, %v px wide", r["decodedAfter"], r["fps"], r["width"])
	} else {
		citizenIdentity := ghost.String() + ":RATHAUSVIDEO"
		assert.Equal(t, citizenIdentity, r["remoteIdentity"], "the citizen is in LiveKit as the ghost's call device")
		member, _ := r["member"].(map[string]any)
		require.NotNil(t, member, "the client matched the citizen's LiveKit identity to no call membership: %v", r["memberships"])
		assert.Equal(t, ghost.String(), member["userId"])
		assert.Equal(t, "RATHAUSVIDEO", member["deviceId"])
		assert.Positive(t, r["fps"].(float64), "the caseworker's client decodes the citizen")
		t.Logf("native client: token after %v ms, %v frames/s of the citizen; memberships %v", r["tokenAfter"], r["fps"], r["memberships"])
	}
	// Anna's own call membership, published by MatrixRTCSession, and Anna
	// in the call as rathaus sees it.
	// (MatrixRTCSession picks its state key: "_@user:server_DEVICE" and
	// a suffix in newer versions.)
	state, err := g.anna.State(ctx, room)
	require.NoError(t, err)
	annaKey := ""
	for key, evt := range state[callMember] {
		if evt.Sender == g.anna.UserID && len(evt.Content.Raw) > 0 {
			annaKey = key
		}
	}
	require.NotEmpty(t, annaKey, "the caseworker's client published its call membership")
	t.Logf("the caseworker's call membership: %s", annaKey)
	sent, err := g.anna.SendText(ctx, room, "!rathaus video status")
	require.NoError(t, err)
	status := apptest.BotReplyTo(t, g.anna, room, id.NewUserID("rathaus", g.hs.ServerName), sent.EventID)
	t.Logf("rathaus's status of the call: %s", status)
	assert.Contains(t, status, g.anna.UserID.String()+":"+g.anna.DeviceID.String(), "the caseworker's device is in the call")
	assert.Contains(t, status, "Bürger:in", "the citizen is in the call")
	s.Continue("native-in-call", nil)

	s.Expect("done", time.Minute)
	tesths.WaitFor(t, 10*time.Second, "the caseworker's call membership to be cleared", func() error {
		var content map[string]any
		if err := g.anna.StateEvent(ctx, room, callMember, annaKey, &content); err != nil {
			return err
		}
		if len(content) != 0 {
			return fmt.Errorf("still %v", content)
		}
		return nil
	})
	s.Continue("done", nil)
	s.Wait(browserStep)
}
