package livekit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/video"
)

// Options configure New.
type Options struct {
	// URL is LiveKit's base URL as rathaus reaches it (http:// or
	// https://; the API and the signalling share it).
	URL string
	// ClientURL is LiveKit as pages reach it (wss://…); by default URL
	// with ws:// or wss://.
	ClientURL string
	Credentials
	// RoomName names the LiveKit room of a call. Element Call computes
	// it from the Matrix room (RoomAlias), so case calls use that; by
	// default the call id is the name.
	RoomName func(video.CallID) (string, error)
	// Admit is asked again when LiveKit reports a participant joined:
	// false removes it at once (a kicked or departed member with a token
	// minted before). identity is LiveKit's, e.g. "@a:b.de:DEVICE".
	// Nil admits everyone holding a token. identity is rathaus's (after
	// Alias) for the participants rathaus granted.
	Admit func(ctx context.Context, call video.CallID, identity string) bool
	// Alias names the LiveKit identity of one of rathaus's identities in
	// a call ("" keeps it): the citizen joins as their ghost's call
	// device, "@ghost:server:DEVICE", so Element matches them to the
	// ghost's call membership. Events, participants and kicks speak
	// rathaus's identities throughout.
	Alias func(call video.CallID, who video.Identity) string
	// HTTPClient talks to LiveKit (http.DefaultClient if nil).
	HTTPClient *http.Client
	Now        func() time.Time
	Log        zerolog.Logger
	// Registerer, if set, gets the backend's metrics (metrics.go).
	Registerer prometheus.Registerer
}

// Backend is the LiveKit video.Backend: rathaus creates and deletes
// LiveKit rooms, mints join tokens, removes participants through
// LiveKit's room service, and takes LiveKit's signed webhooks into the
// calls' events. LiveKit must run with room.auto_create off (Check).
type Backend struct {
	opts Options
	rs   *roomService

	mu     sync.Mutex
	calls  map[video.CallID]*lkCall
	byRoom map[string]video.CallID
	events video.Hub
}

var _ video.Backend = (*Backend)(nil)

type lkCall struct {
	room string
	// rights are what rathaus granted, per identity, for Participants.
	rights map[video.Identity]video.Rights
	// kicked are removed identities: a join with a token minted before
	// the kick is removed again (the webhook), until a new grant.
	kicked map[video.Identity]bool
	// quiet marks identities whose "left" follows a kick or the end.
	quiet map[string]bool
	// aliases are the LiveKit identities Alias gave, to rathaus's.
	aliases map[string]video.Identity
	// listenerVideos is the call's Limits.ListenerVideos (committee).
	listenerVideos int
	// maxPublishers is the call's Limits.MaxPublishers (0: none).
	maxPublishers int
	// present are the LiveKit identities in the room, from the webhooks.
	present map[string]bool
}

// ours is rathaus's identity of a LiveKit identity. b.mu is held.
func (c *lkCall) ours(lkIdentity string) video.Identity {
	if who, ok := c.aliases[lkIdentity]; ok {
		return who
	}
	return video.Identity(lkIdentity)
}

// targets are the LiveKit participants that are who's. b.mu is held.
func (c *lkCall) targets(parts []lkParticipant, who video.Identity) []string {
	var out []string
	for _, p := range parts {
		if owns(string(c.ours(p.Identity)), who) {
			out = append(out, p.Identity)
		}
	}
	return out
}

// New checks the options; Check then asks LiveKit itself.
func New(opts Options) (*Backend, error) {
	if err := opts.Check(); err != nil {
		return nil, err
	}
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("livekit: the URL %q is not an http(s) URL", opts.URL)
	}
	if opts.ClientURL == "" {
		c := *u
		c.Scheme = map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
		opts.ClientURL = strings.TrimSuffix(c.String(), "/")
	}
	if cu, err := url.Parse(opts.ClientURL); err != nil || (cu.Scheme != "ws" && cu.Scheme != "wss") {
		return nil, fmt.Errorf("livekit: the client URL %q is not a ws(s) URL", opts.ClientURL)
	}
	if opts.RoomName == nil {
		opts.RoomName = func(c video.CallID) (string, error) { return string(c), nil }
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	b := &Backend{opts: opts,
		rs:    &roomService{base: strings.TrimSuffix(opts.URL, "/"), creds: opts.Credentials, http: opts.HTTPClient, now: opts.Now},
		calls: map[video.CallID]*lkCall{}, byRoom: map[string]video.CallID{}}
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(newCollector(b)); err != nil {
			return nil, fmt.Errorf("livekit: failed to register the metrics: %w", err)
		}
	}
	return b, nil
}

// ClientURL is where pages connect.
func (b *Backend) ClientURL() string { return b.opts.ClientURL }

// ErrAutoCreate: LiveKit lets any token holder create rooms.
var ErrAutoCreate = errors.New("livekit: the server creates rooms on join (room.auto_create); set `room: {auto_create: false}` in LiveKit's config, or any token holder can open rooms on it")

// Check asks LiveKit whether the credentials work and room.auto_create
// is off: it lists rooms with an admin token, then validates a join
// token for a room that does not exist, which LiveKit refuses only when
// it does not create rooms on join.
func (b *Backend) Check(ctx context.Context) error {
	if _, err := b.rs.listRooms(ctx, nil); err != nil {
		return fmt.Errorf("livekit: the API at %s refuses rathaus's key or is unreachable: %w", b.opts.URL, err)
	}
	probe := make([]byte, 8)
	_, _ = rand.Read(probe)
	token, err := JoinToken(b.opts.Credentials, JoinRequest{Room: "rathaus-probe-" + hex.EncodeToString(probe),
		Identity: "rathaus-probe", TTL: time.Minute}, b.opts.Now())
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.rs.base+"/rtc/validate?access_token="+url.QueryEscape(token), nil)
	if err != nil {
		return err
	}
	resp, err := b.opts.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("livekit: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return ErrAutoCreate
	case http.StatusNotFound:
		return nil
	default:
		return fmt.Errorf("livekit: validating a probe token answered %d, expected 404 (room not found)", resp.StatusCode)
	}
}

func (b *Backend) call(id video.CallID) *lkCall {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls[id]
}

// EnsureCall creates the call's LiveKit room (LiveKit answers with the
// existing room if there is one) with the participant limit.
func (b *Backend) EnsureCall(ctx context.Context, id video.CallID, limits video.Limits) error {
	if id == "" {
		return errors.New("video: a call needs an id")
	}
	name, err := b.opts.RoomName(id)
	if err != nil {
		return err
	}
	max := uint32(0)
	if limits.MaxParticipants > 0 {
		max = uint32(limits.MaxParticipants) //nolint:gosec // small, positive
	}
	// LiveKit deletes a room empty for 10 minutes (or 20 s after the
	// last one left); rathaus deletes it when the call ends.
	if _, err := b.rs.createRoom(ctx, createRoomRequest{Name: name, EmptyTimeout: 600, DepartureTimeout: 20, MaxParticipants: max}); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.calls[id] == nil {
		b.calls[id] = &lkCall{room: name, rights: map[video.Identity]video.Rights{}, kicked: map[video.Identity]bool{},
			quiet: map[string]bool{}, aliases: map[string]video.Identity{}, present: map[string]bool{}}
		b.byRoom[name] = id
	}
	b.calls[id].listenerVideos = limits.ListenerVideos
	b.calls[id].maxPublishers = limits.MaxPublishers
	return nil
}

// Grant mints a LiveKit join token for a call that exists: publishing
// only if granted, camera and microphone (and the screen if granted),
// never creating rooms, valid at most an hour.
func (b *Backend) Grant(_ context.Context, req video.GrantRequest) (video.JoinInfo, error) {
	c := b.call(req.Call)
	if c == nil {
		return video.JoinInfo{}, video.ErrNoCall
	}
	ttl := req.TTL
	if ttl <= 0 || ttl > MaxTokenTTL {
		ttl = MaxTokenTTL
	}
	now := b.opts.Now()
	lkIdentity := string(req.Identity)
	if b.opts.Alias != nil {
		if a := b.opts.Alias(req.Call, req.Identity); a != "" {
			lkIdentity = a
		}
	}
	token, err := JoinToken(b.opts.Credentials, JoinRequest{Room: c.room, Identity: lkIdentity, Name: req.Rights.Role,
		Publish: req.Rights.Publish, Subscribe: req.Rights.Subscribe, Data: true, ScreenShare: req.Rights.ScreenShare, TTL: ttl}, now)
	if err != nil {
		return video.JoinInfo{}, err
	}
	b.mu.Lock()
	c.rights[req.Identity] = req.Rights
	delete(c.kicked, req.Identity)
	if lkIdentity != string(req.Identity) {
		c.aliases[lkIdentity] = req.Identity
	}
	info := video.JoinInfo{Backend: "livekit", URL: b.opts.ClientURL, Token: token, Expires: now.Add(ttl)}
	if !req.Rights.Publish && c.listenerVideos > 0 {
		// A committee call's listener: LiveKit sends whatever a page
		// subscribes to, so the page takes the last speakers' videos
		// (lkcall.js); dynacast stops the layers nobody takes.
		info.ListenerVideos = c.listenerVideos
	}
	b.mu.Unlock()
	return info, nil
}

// owns reports whether the LiveKit identity is who's: who itself, or
// who with a device (Element Call's "@user:server:DEVICE").
func owns(lkIdentity string, who video.Identity) bool {
	w := string(who)
	return lkIdentity == w || (strings.HasPrefix(lkIdentity, w+":") && !strings.Contains(lkIdentity[len(w)+1:], ":"))
}

// Kick removes who (and any of who's devices) from the call's LiveKit
// room; a rejoin with a token minted before is removed again on
// LiveKit's webhook.
func (b *Backend) Kick(ctx context.Context, id video.CallID, who video.Identity) error {
	c := b.call(id)
	if c == nil {
		return nil
	}
	b.mu.Lock()
	c.kicked[who] = true
	delete(c.rights, who)
	b.mu.Unlock()
	parts, err := b.rs.listParticipants(ctx, c.room)
	if err != nil && !isNotFound(err) {
		return err
	}
	b.mu.Lock()
	targets := c.targets(parts, who)
	for _, t := range targets {
		c.quiet[t] = true
	}
	b.mu.Unlock()
	removed := false
	for _, t := range targets {
		if err := b.rs.removeParticipant(ctx, c.room, t); err != nil && !isNotFound(err) {
			return err
		}
		removed = true
	}
	if removed {
		b.emit(video.Event{Kind: video.EventKicked, Call: id, Identity: who, At: b.opts.Now()})
	}
	return nil
}

// Participants lists who is in the LiveKit room now.
func (b *Backend) Participants(ctx context.Context, id video.CallID) ([]video.Participant, error) {
	c := b.call(id)
	if c == nil {
		return nil, nil
	}
	parts, err := b.rs.listParticipants(ctx, c.room)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]video.Participant, 0, len(parts))
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range parts {
		vp := video.Participant{Identity: c.ours(p.Identity), JoinedAt: p.joined(), Publishing: len(p.Tracks) > 0}
		if r, ok := c.rights[vp.Identity]; ok {
			vp.Rights = r
		} else if p.Permission != nil {
			// Joined with a token rathaus did not mint through Grant
			// (Element Call through the MatrixRTC endpoints).
			vp.Rights = video.Rights{Publish: p.mayPublish(), Subscribe: p.Permission.CanSubscribe}
		}
		out = append(out, vp)
	}
	return out, nil
}

// EndCall deletes the LiveKit room (disconnecting everyone) and forgets
// the call.
func (b *Backend) EndCall(ctx context.Context, id video.CallID) error {
	b.mu.Lock()
	c := b.calls[id]
	delete(b.calls, id)
	if c != nil {
		delete(b.byRoom, c.room)
	}
	b.mu.Unlock()
	if c == nil {
		return nil
	}
	if err := b.rs.deleteRoom(ctx, c.room); err != nil && !isNotFound(err) {
		return err
	}
	b.emit(video.Event{Kind: video.EventEnded, Call: id, At: b.opts.Now()})
	return nil
}

// Subscribe calls fn for every event until unsubscribed.
func (b *Backend) Subscribe(fn func(video.Event)) func() { return b.events.Subscribe(fn) }

func (b *Backend) emit(e video.Event) { b.events.Emit(e) }

// Close lets go of nothing: LiveKit's rooms outlive rathaus and end with
// their calls (or LiveKit's empty timeout).
func (b *Backend) Close() error { return nil }

// MuteTopic is the data topic of rathaus's requests to mute; the page
// (kit/lkcall.js) takes them only from the server.
const MuteTopic = "rathaus.mute_request"

// RequestMute asks who's pages (every device of who) to mute kind
// ("audio" or "video"); the person decides, as on the embedded server.
func (b *Backend) RequestMute(ctx context.Context, id video.CallID, who video.Identity, kind string) error {
	c := b.call(id)
	if c == nil {
		return video.ErrNoCall
	}
	parts, err := b.rs.listParticipants(ctx, c.room)
	if err != nil {
		return err
	}
	b.mu.Lock()
	to := c.targets(parts, who)
	b.mu.Unlock()
	if len(to) == 0 {
		return video.ErrNoCall
	}
	body, err := json.Marshal(map[string]string{"kind": kind})
	if err != nil {
		return err
	}
	return b.rs.sendData(ctx, c.room, MuteTopic, body, to)
}
