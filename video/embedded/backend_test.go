package embedded_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/video"
	"github.com/rathaus-de/rathaus/video/embedded"
	"github.com/rathaus-de/rathaus/video/signal"
	"github.com/rathaus-de/rathaus/video/videotest"
)

var key = []byte("0123456789abcdef0123456789abcdef")

type harness struct {
	t      *testing.T
	b      *embedded.Backend
	srv    *httptest.Server
	mu     sync.Mutex
	events []video.Event
}

func newHarness(t *testing.T, mutate ...func(*embedded.Options)) *harness {
	t.Helper()
	h := &harness{t: t}
	h.srv = httptest.NewServer(nil)
	opts := embedded.Options{GrantKeys: [][]byte{key}, ICEUDPAddr: "127.0.0.1:0", ICETCPAddr: "127.0.0.1:0",
		IncludeLoopback: true, PublicURL: "ws" + strings.TrimPrefix(h.srv.URL, "http") + "/video/v1/signal",
		Log: zerolog.Nop()}
	for _, m := range mutate {
		m(&opts)
	}
	b, err := embedded.New(opts)
	require.NoError(t, err)
	h.b = b
	h.srv.Config.Handler = b
	b.Subscribe(func(e video.Event) {
		h.mu.Lock()
		h.events = append(h.events, e)
		h.mu.Unlock()
	})
	t.Cleanup(func() {
		h.srv.Close()
		_ = b.Close()
	})
	return h
}

func (h *harness) call(id video.CallID, l video.Limits) {
	h.t.Helper()
	require.NoError(h.t, h.b.EnsureCall(context.Background(), id, l))
}

func (h *harness) grant(call video.CallID, who video.Identity, r video.Rights) video.JoinInfo {
	h.t.Helper()
	info, err := h.b.Grant(context.Background(), video.GrantRequest{Call: call, Identity: who, Rights: r, TTL: time.Minute})
	require.NoError(h.t, err)
	return info
}

func (h *harness) dial(info video.JoinInfo, o videotest.Options) (*videotest.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := videotest.Dial(ctx, info.URL, info.Token, o)
	if c != nil {
		h.t.Cleanup(c.Close)
	}
	return c, err
}

func (h *harness) eventKinds(who video.Identity) []video.EventKind {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []video.EventKind
	for _, e := range h.events {
		if e.Identity == who || (who == "" && e.Identity == "") {
			out = append(out, e.Kind)
		}
	}
	return out
}

var both = video.Rights{Publish: true, Subscribe: true}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTwoParticipantsExchangeMedia(t *testing.T) {
	h := newHarness(t)
	h.call("c1", video.Limits{})
	staff, err := h.dial(h.grant("c1", "@anna:rathaus.test", both), videotest.Options{Video: true, Audio: true})
	require.NoError(t, err)
	citizen, err := h.dial(h.grant("c1", "citizen-1", both), videotest.Options{Video: true, Audio: true})
	require.NoError(t, err)

	waitFor(t, 5*time.Second, "both receive the other's video and audio", func() bool {
		return len(staff.Received()) == 2 && len(citizen.Received()) == 2 && staff.Total() > 100 && citizen.Total() > 100
	})
	for id := range citizen.Received() {
		assert.Regexp(t, `^(audio|video)-\d+$`, id)
	}
	// Each sees the other as a participant whose id is the stream id.
	for _, tr := range citizen.Tracks() {
		assert.NotEqual(t, "camera", tr.StreamID(), "the forwarded stream id is the participant's opaque id")
	}
	ps, err := h.b.Participants(context.Background(), "c1")
	require.NoError(t, err)
	require.Len(t, ps, 2)
	assert.Equal(t, video.Identity("@anna:rathaus.test"), ps[0].Identity)
	assert.Contains(t, h.eventKinds("citizen-1"), video.EventJoined)

	citizen.Close()
	waitFor(t, 3*time.Second, "the staff side learns that the citizen left", func() bool {
		for _, m := range staff.Messages() {
			if m.Type == signal.TypeParticipant && m.Event == signal.EventLeft {
				return true
			}
		}
		return false
	})
	waitFor(t, 3*time.Second, "a left event", func() bool {
		return assert.ObjectsAreEqual([]video.EventKind{video.EventJoined, video.EventLeft}, h.eventKinds("citizen-1"))
	})
}

func TestGrantsAreRefused(t *testing.T) {
	now := time.Now()
	h := newHarness(t)
	h.call("a", video.Limits{})
	h.call("b", video.Limits{})
	forA := h.grant("a", "citizen-1", both)
	urlB := strings.Replace(forA.URL, "call=a", "call=b", 1)

	expired, _, err := video.MintGrant(key, "a", "citizen-1", both, now.Add(-2*time.Hour), time.Hour)
	require.NoError(t, err)
	otherKey, _, err := video.MintGrant([]byte("another key of at least 32 bytes!!"), "a", "citizen-1", both, now, time.Minute)
	require.NoError(t, err)
	tampered := []byte(forA.Token)
	tampered[5] ^= 1

	for name, tc := range map[string]struct {
		url, token string
		reason     signal.Reason
	}{
		"grant for call a on call b": {urlB, forA.Token, signal.ReasonGrantInvalid},
		"expired":                    {forA.URL, expired, signal.ReasonGrantExpired},
		"signed with another key":    {forA.URL, otherKey, signal.ReasonGrantInvalid},
		"tampered":                   {forA.URL, string(tampered), signal.ReasonGrantInvalid},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := h.dial(video.JoinInfo{URL: tc.url, Token: tc.token}, videotest.Options{})
			require.ErrorIs(t, err, videotest.ErrRefused)
			assert.Contains(t, err.Error(), string(tc.reason))
		})
	}
	ps, err := h.b.Participants(context.Background(), "a")
	require.NoError(t, err)
	assert.Empty(t, ps, "no refused grant joined")

	_, err = h.b.Grant(context.Background(), video.GrantRequest{Call: "nope", Identity: "x", Rights: both})
	assert.ErrorIs(t, err, video.ErrNoCall, "no grant for a call that does not exist")
}

func TestKickClosesAndVoidsTheGrant(t *testing.T) {
	h := newHarness(t)
	h.call("c1", video.Limits{})
	_, err := h.dial(h.grant("c1", "@anna:rathaus.test", both), videotest.Options{Video: true})
	require.NoError(t, err)
	g := h.grant("c1", "citizen-1", both)
	citizen, err := h.dial(g, videotest.Options{Video: true})
	require.NoError(t, err)
	waitFor(t, 5*time.Second, "media flows", func() bool { return citizen.Total() > 20 })

	kicked := time.Now()
	require.NoError(t, h.b.Kick(context.Background(), "c1", "citizen-1"))
	select {
	case <-citizen.Gone:
	case <-time.After(2 * time.Second):
		t.Fatal("the kicked participant's peer connection is still open after 2 s")
	}
	t.Logf("peer connection closed %s after the kick", time.Since(kicked).Round(time.Millisecond))
	waitFor(t, 2*time.Second, "the kicked reason", func() bool { return citizen.ClosedReason() == signal.ReasonKicked })
	assert.Equal(t, []video.EventKind{video.EventJoined, video.EventKicked}, h.eventKinds("citizen-1"))

	_, err = h.dial(g, videotest.Options{})
	require.ErrorIs(t, err, videotest.ErrRefused, "the old grant no longer works")
	assert.Contains(t, err.Error(), string(signal.ReasonGrantInvalid))
}

func TestLimitsRefuseClearly(t *testing.T) {
	h := newHarness(t)
	h.call("c1", video.Limits{MaxParticipants: 2, MaxPublishers: 1})
	_, err := h.dial(h.grant("c1", "@anna:rathaus.test", both), videotest.Options{})
	require.NoError(t, err)
	_, err = h.dial(h.grant("c1", "citizen-1", both), videotest.Options{})
	require.ErrorIs(t, err, videotest.ErrRefused)
	assert.Contains(t, err.Error(), string(signal.ReasonTooManyPub))
	_, err = h.dial(h.grant("c1", "listener-1", video.Rights{Subscribe: true}), videotest.Options{})
	require.NoError(t, err)
	_, err = h.dial(h.grant("c1", "listener-2", video.Rights{Subscribe: true}), videotest.Options{})
	require.ErrorIs(t, err, videotest.ErrRefused)
	assert.Contains(t, err.Error(), string(signal.ReasonCallFull))
}

func TestEndCallDisconnectsEveryone(t *testing.T) {
	h := newHarness(t)
	h.call("c1", video.Limits{})
	a, err := h.dial(h.grant("c1", "@anna:rathaus.test", both), videotest.Options{Video: true})
	require.NoError(t, err)
	g := h.grant("c1", "citizen-1", both)
	b, err := h.dial(g, videotest.Options{Video: true})
	require.NoError(t, err)
	waitFor(t, 5*time.Second, "media flows", func() bool { return b.Total() > 10 })
	require.NoError(t, h.b.EndCall(context.Background(), "c1"))
	for _, c := range []*videotest.Client{a, b} {
		select {
		case <-c.Gone:
		case <-time.After(2 * time.Second):
			t.Fatal("a peer connection is open 2 s after the end")
		}
		// The closed message and the peer connection's end race; both come.
		waitFor(t, 2*time.Second, "the ended reason", func() bool { return c.ClosedReason() == signal.ReasonEnded })
	}
	assert.Contains(t, h.eventKinds(""), video.EventEnded)
	_, err = h.dial(g, videotest.Options{})
	assert.True(t, errors.Is(err, videotest.ErrRefused), "no join into an ended call")
}

func TestBadMessagesAreRefused(t *testing.T) {
	h := newHarness(t)
	h.call("c1", video.Limits{})
	c, err := h.dial(h.grant("c1", "citizen-1", both), videotest.Options{})
	require.NoError(t, err)
	require.NoError(t, c.SendRaw([]byte(`{"type":"sdp","description":{"type":"offer","sdp":"nonsense"}}`)))
	require.NoError(t, c.SendRaw([]byte(`{"type":"join","grant":"x","extra":1}`)))
	waitFor(t, 2*time.Second, "two refusals", func() bool {
		n := 0
		for _, m := range c.Messages() {
			if m.Type == signal.TypeError && m.Reason == signal.ReasonBadMessage {
				n++
			}
		}
		return n == 2
	})
	require.NoError(t, c.Send(signal.Message{Type: signal.TypePing}))
	waitFor(t, 2*time.Second, "the socket still answers", func() bool {
		for _, m := range c.Messages() {
			if m.Type == signal.TypePong {
				return true
			}
		}
		return false
	})
}

// TestMediaOverICETCP: a participant whose network lets no UDP out at all
// exchanges media over the ICE-TCP port.
func TestMediaOverICETCP(t *testing.T) {
	h := newHarness(t)
	h.call("c1", video.Limits{})
	staff, err := h.dial(h.grant("c1", "@anna:rathaus.test", both), videotest.Options{Video: true, Audio: true})
	require.NoError(t, err)
	citizen, err := h.dial(h.grant("c1", "citizen-1", both), videotest.Options{Video: true, Audio: true, TCPOnly: true})
	require.NoError(t, err)
	waitFor(t, 10*time.Second, "media both ways over ICE-TCP", func() bool {
		return citizen.Total() > 100 && staff.Total() > 100
	})
	for c, want := range map[*videotest.Client]string{citizen: "tcp", staff: "udp"} {
		local, ok := c.SelectedLocal()
		require.True(t, ok)
		assert.Equal(t, want, local.Protocol)
	}
}
