package livekit_test

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/video"
	"github.com/rathaus-de/rathaus/video/livekit"
	"github.com/rathaus-de/rathaus/video/livekit/livekittest"
)

// events collects a backend's events for assertions.
type events struct {
	mu  sync.Mutex
	got []video.Event
	ch  chan struct{}
}

func (e *events) add(ev video.Event) {
	e.mu.Lock()
	e.got = append(e.got, ev)
	e.mu.Unlock()
	select {
	case e.ch <- struct{}{}:
	default:
	}
}

// await waits for an event of kind for who.
func (e *events) await(t *testing.T, kind video.EventKind, who string, within time.Duration) video.Event {
	t.Helper()
	deadline := time.After(within)
	for {
		e.mu.Lock()
		for _, ev := range e.got {
			if ev.Kind == kind && string(ev.Identity) == who {
				e.mu.Unlock()
				return ev
			}
		}
		e.mu.Unlock()
		select {
		case <-e.ch:
		case <-deadline:
			t.Fatalf("no %s event for %q within %s; got %+v", kind, who, within, e.got)
		}
	}
}

type fixture struct {
	srv     *livekittest.Server
	backend *livekit.Backend
	events  *events
	// deny makes Admit refuse these identities.
	deny sync.Map
	// reg has the backend's metrics.
	reg *prometheus.Registry
}

// start runs LiveKit with its webhooks pointed at the backend.
func start(t *testing.T) *fixture {
	t.Helper()
	return startWith(t, livekittest.Options{})
}

// startWith is start with more of LiveKit's options.
func startWith(t *testing.T, opts livekittest.Options) *fixture {
	t.Helper()
	f := &fixture{events: &events{ch: make(chan struct{}, 1)}, reg: prometheus.NewRegistry()}
	var handler atomic.Pointer[http.Handler]
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hook := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := handler.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		http.Error(w, "not yet", http.StatusServiceUnavailable)
	})}
	go func() { _ = hook.Serve(l) }()
	t.Cleanup(func() { _ = hook.Close() })
	opts.WebhookURL = "http://" + l.Addr().String() + "/webhook"
	f.srv = livekittest.Start(t, opts)
	f.backend, err = livekit.New(livekit.Options{URL: f.srv.URL,
		Credentials: livekit.Credentials{Key: livekittest.Key, Secret: []byte(livekittest.Secret)},
		Alias: func(_ video.CallID, who video.Identity) string {
			if who == "citizen" {
				return ghostDevice
			}
			return ""
		},
		Admit: func(_ context.Context, _ video.CallID, identity string) bool {
			_, denied := f.deny.Load(identity)
			return !denied
		},
		Log: zerolog.New(zerolog.NewTestWriter(t)), Registerer: f.reg})
	if err != nil {
		t.Fatal(err)
	}
	h := f.backend.WebhookHandler()
	handler.Store(&h)
	t.Cleanup(f.backend.Subscribe(f.events.add))
	return f
}

// ghostDevice is the citizen's LiveKit identity: their ghost's call device.
const ghostDevice = "@_rathaus_guest_1:rathaus.test:RATHAUSVIDEO"

func TestCheckRefusesAutoCreate(t *testing.T) {
	ctx := context.Background()
	f := start(t)
	if err := f.backend.Check(ctx); err != nil {
		t.Fatalf("Check with auto_create off: %v", err)
	}
	open := livekittest.Start(t, livekittest.Options{AutoCreate: true})
	b, err := livekit.New(livekit.Options{URL: open.URL, Credentials: livekit.Credentials{Key: livekittest.Key, Secret: []byte(livekittest.Secret)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Check(ctx); err != livekit.ErrAutoCreate { //nolint:errorlint // the exact sentinel
		t.Fatalf("Check with auto_create on: %v, want ErrAutoCreate", err)
	}
	wrong, err := livekit.New(livekit.Options{URL: f.srv.URL, Credentials: livekit.Credentials{Key: livekittest.Key, Secret: []byte(strings.Repeat("x", 40))}})
	if err != nil {
		t.Fatal(err)
	}
	if err := wrong.Check(ctx); err == nil || !strings.Contains(err.Error(), "refuses") {
		t.Fatalf("Check with a wrong secret: %v", err)
	}
	if _, err := livekit.New(livekit.Options{URL: f.srv.URL, Credentials: livekit.Credentials{Key: "k", Secret: []byte("short")}}); err == nil {
		t.Fatal("New took a secret shorter than 32 bytes")
	}
}

// TestBackendAgainstLiveKit runs a call's life on a real LiveKit: room,
// grants, two participants exchanging media, the webhooks as events, a
// kick that removes within 2 s, an outdated token that cannot stay, and
// the end.
func TestBackendAgainstLiveKit(t *testing.T) {
	ctx := context.Background()
	f := start(t)
	const call = video.CallID("case-4711")
	if _, err := f.backend.Grant(ctx, video.GrantRequest{Call: call, Identity: "x", TTL: time.Minute}); err != video.ErrNoCall { //nolint:errorlint // sentinel
		t.Fatalf("Grant before EnsureCall: %v, want ErrNoCall", err)
	}
	if err := f.backend.EnsureCall(ctx, call, video.Limits{MaxParticipants: 4}); err != nil {
		t.Fatal(err)
	}
	if err := f.backend.EnsureCall(ctx, call, video.Limits{MaxParticipants: 4}); err != nil {
		t.Fatalf("EnsureCall again: %v", err)
	}
	staffInfo, err := f.backend.Grant(ctx, video.GrantRequest{Call: call, Identity: "@sb:rathaus.test",
		Rights: video.Rights{Publish: true, Subscribe: true, ScreenShare: true, Role: "staff"}, TTL: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(staffInfo.Expires); d > time.Hour+time.Second {
		t.Errorf("a grant asked for 2 h expires in %s; at most 1 h", d)
	}
	claims := claimsOf(t, staffInfo.Token)
	if claims.Video.RoomCreate || !claims.Video.RoomJoin || claims.Video.Room != string(call) || claims.Subject != "@sb:rathaus.test" {
		t.Errorf("staff token claims %+v", claims)
	}
	citizenInfo, err := f.backend.Grant(ctx, video.GrantRequest{Call: call, Identity: "guest-1",
		Rights: video.Rights{Publish: true, Subscribe: true, Role: "citizen"}, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(citizenInfo.URL, "ws://127.0.0.1:") {
		t.Errorf("join URL %q", citizenInfo.URL)
	}

	staff := livekittest.Join(t, staffInfo.URL, staffInfo.Token, livekittest.PeerOptions{Publish: true})
	staff.Await("connected", 15*time.Second)
	citizen := livekittest.Join(t, citizenInfo.URL, citizenInfo.Token, livekittest.PeerOptions{Publish: true})
	if ev := citizen.Await("connected", 15*time.Second); ev.Identity != "guest-1" {
		t.Errorf("citizen connected as %q", ev.Identity)
	}
	f.events.await(t, video.EventJoined, "@sb:rathaus.test", 10*time.Second)
	f.events.await(t, video.EventJoined, "guest-1", 10*time.Second)
	// Media both ways, through LiveKit.
	if ev := citizen.Await("packets", 15*time.Second); ev.From != "@sb:rathaus.test" {
		t.Errorf("citizen got packets from %q", ev.From)
	}
	if ev := staff.Await("packets", 15*time.Second); ev.From != "guest-1" {
		t.Errorf("staff got packets from %q", ev.From)
	}
	parts, err := f.backend.Participants(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[video.Identity]video.Participant{}
	for _, p := range parts {
		byID[p.Identity] = p
	}
	if p := byID["guest-1"]; !p.Publishing || p.Rights.Role != "citizen" || p.JoinedAt.IsZero() {
		t.Errorf("citizen in Participants: %+v (all: %+v)", p, parts)
	}
	if len(parts) != 2 {
		t.Errorf("Participants: %+v, want 2", parts)
	}

	// A request to mute reaches the citizen's page (a data message).
	if err := f.backend.RequestMute(ctx, call, "guest-1", "audio"); err != nil {
		t.Fatalf("RequestMute: %v", err)
	}
	if ev := citizen.Await("data", 5*time.Second); ev.Kind != livekit.MuteTopic || ev.From != "" {
		t.Errorf("the citizen got %+v, want the server's mute request", ev)
	}

	// Kick: gone within 2 s, and the token minted before cannot stay.
	kicked := time.Now()
	if err := f.backend.Kick(ctx, call, "guest-1"); err != nil {
		t.Fatal(err)
	}
	ev := citizen.Await("disconnected", 2*time.Second)
	t.Logf("kicked citizen out after %s (reason %q)", time.Since(kicked).Round(time.Millisecond), ev.Reason)
	f.events.await(t, video.EventKicked, "guest-1", time.Second)
	again := livekittest.Join(t, citizenInfo.URL, citizenInfo.Token, livekittest.PeerOptions{})
	if d := removedAgain(t, f.backend, call, "guest-1", again); d > 2*time.Second {
		t.Errorf("the kicked citizen's rejoin with the old token stayed %s; at most 2 s", d)
	}

	// A participant the call service no longer admits (a member who left
	// the Matrix room) is removed when LiveKit reports the join.
	f.deny.Store("guest-2", true)
	g2, err := f.backend.Grant(ctx, video.GrantRequest{Call: call, Identity: "guest-2", Rights: video.Rights{Subscribe: true}, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	p2 := livekittest.Join(t, g2.URL, g2.Token, livekittest.PeerOptions{})
	if d := removedAgain(t, f.backend, call, "guest-2", p2); d > 2*time.Second {
		t.Errorf("a participant the call service refuses stayed %s; at most 2 s", d)
	}

	// The citizen joins as their ghost's call device (what Element
	// matches to the ghost's call membership); rathaus still speaks of
	// "citizen" in events, participants and kicks.
	ci, err := f.backend.Grant(ctx, video.GrantRequest{Call: call, Identity: "citizen", Rights: video.Rights{Subscribe: true, Role: "citizen"}, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if c := claimsOf(t, ci.Token); c.Subject != ghostDevice {
		t.Errorf("the citizen's LiveKit identity is %q, want %q", c.Subject, ghostDevice)
	}
	cp := livekittest.Join(t, ci.URL, ci.Token, livekittest.PeerOptions{})
	if ev := cp.Await("connected", 15*time.Second); ev.Identity != ghostDevice {
		t.Errorf("connected as %q", ev.Identity)
	}
	f.events.await(t, video.EventJoined, "citizen", 10*time.Second)
	parts, err = f.backend.Participants(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range parts {
		found = found || (p.Identity == "citizen" && p.Rights.Role == "citizen")
	}
	if !found {
		t.Errorf("the citizen is not in Participants as citizen: %+v", parts)
	}
	if err := f.backend.Kick(ctx, call, "citizen"); err != nil {
		t.Fatal(err)
	}
	cp.Await("disconnected", 2*time.Second)
	f.events.await(t, video.EventKicked, "citizen", time.Second)

	// Leaving is an event too.
	staff.Leave()
	f.events.await(t, video.EventLeft, "@sb:rathaus.test", 10*time.Second)

	// The end deletes the room: nobody can join with a token of it.
	if err := f.backend.EndCall(ctx, call); err != nil {
		t.Fatal(err)
	}
	f.events.await(t, video.EventEnded, "", time.Second)
	late := livekittest.Join(t, staffInfo.URL, staffInfo.Token, livekittest.PeerOptions{})
	if ev, ok := late.Next("connected", 5*time.Second); ok {
		t.Fatalf("joined a call that ended: %+v", ev)
	}
}

func claimsOf(t *testing.T, token string) livekit.Claims {
	t.Helper()
	c, err := livekit.Verify(livekit.Credentials{Key: livekittest.Key, Secret: []byte(livekittest.Secret)}, token, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// removedAgain watches LiveKit's participants while peer joins: how long
// who was in the room (from first seen to gone), or 0 if never seen
// before the peer gave up.
func removedAgain(t *testing.T, b *livekit.Backend, call video.CallID, who video.Identity, peer *livekittest.Peer) time.Duration {
	t.Helper()
	var seen time.Time
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		parts, err := b.Participants(context.Background(), call)
		if err != nil {
			t.Fatal(err)
		}
		in := false
		for _, p := range parts {
			in = in || p.Identity == who
		}
		switch {
		case in && seen.IsZero():
			seen = time.Now()
		case !in && !seen.IsZero():
			d := time.Since(seen)
			t.Logf("%s joined with a token it may no longer use and was removed within %s", who, d.Round(10*time.Millisecond))
			return d
		case !in:
			select {
			case <-peer.Exited():
				t.Logf("%s could not join at all", who)
				return 0
			default:
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s stays in the call", who)
	return 0
}

// TestPublishersLimitOnLiveKit: video.limits.max_publishers holds on
// LiveKit as on the embedded server, which refuses the join: a publisher
// beyond the limit is removed when LiveKit reports its join; one who only
// listens stays, and once a publisher left, another may publish.
func TestPublishersLimitOnLiveKit(t *testing.T) {
	ctx := context.Background()
	f := start(t)
	const call = video.CallID("case-limit")
	if err := f.backend.EnsureCall(ctx, call, video.Limits{MaxParticipants: 6, MaxPublishers: 2}); err != nil {
		t.Fatal(err)
	}
	join := func(who video.Identity, publish bool) *livekittest.Peer {
		info, err := f.backend.Grant(ctx, video.GrantRequest{Call: call, Identity: who,
			Rights: video.Rights{Publish: publish, Subscribe: true, Role: "staff"}, TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		return livekittest.Join(t, info.URL, info.Token, livekittest.PeerOptions{Publish: publish})
	}
	first := join("@a:rathaus.test", true)
	first.Await("connected", 15*time.Second)
	f.events.await(t, video.EventJoined, "@a:rathaus.test", 10*time.Second)
	join("@b:rathaus.test", true).Await("connected", 15*time.Second)
	f.events.await(t, video.EventJoined, "@b:rathaus.test", 10*time.Second)

	third := join("@c:rathaus.test", true)
	if d := removedAgain(t, f.backend, call, "@c:rathaus.test", third); d > 2*time.Second {
		t.Errorf("a third publisher in a call of at most two stayed %s; at most 2 s", d)
	}
	join("@listener:rathaus.test", false).Await("connected", 15*time.Second)
	f.events.await(t, video.EventJoined, "@listener:rathaus.test", 10*time.Second)

	// The first leaves: there is room again.
	first.Leave()
	f.events.await(t, video.EventLeft, "@a:rathaus.test", 10*time.Second)
	join("@d:rathaus.test", true).Await("connected", 15*time.Second)
	f.events.await(t, video.EventJoined, "@d:rathaus.test", 10*time.Second)
	parts, err := f.backend.Participants(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	var who []string
	for _, p := range parts {
		who = append(who, string(p.Identity))
	}
	slices.Sort(who)
	if want := []string{"@b:rathaus.test", "@d:rathaus.test", "@listener:rathaus.test"}; !slices.Equal(who, want) {
		t.Errorf("in the call: %v, want %v", who, want)
	}
	// The metrics count them as the embedded server's do.
	if got := gauge(t, f.reg, "rathaus_video_call_participants", "call", string(call)); got != 3 {
		t.Errorf("rathaus_video_call_participants{call=%q} = %v, want 3", call, got)
	}
	if got := gauge(t, f.reg, "rathaus_video_participants", "", ""); got != 3 {
		t.Errorf("rathaus_video_participants = %v, want 3", got)
	}
}

// gauge reads a gauge from reg: the series with label = value, or the
// only one when label is "".
func gauge(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetGauge().GetValue()
				}
			}
			if label == "" {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no %s{%s=%q}", name, label, value)
	return 0
}
