package livekit

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/rathaus-de/rathaus/video"
)

// maxWebhook bounds a webhook's body; LiveKit's are a few KiB.
const maxWebhook = 1 << 20

// webhookEvent is the part of LiveKit's WebhookEvent (protobuf JSON,
// camel case) that rathaus reads.
type webhookEvent struct {
	Event string `json:"event"`
	ID    string `json:"id"`
	Room  *struct {
		Name string `json:"name"`
	} `json:"room"`
	Participant *lkParticipant `json:"participant"`
}

// ErrWebhookSignature: a webhook without a valid signature of rathaus's
// key over its body.
var ErrWebhookSignature = errors.New("livekit: the webhook is not signed by LiveKit with rathaus's key")

// verifyWebhook checks the Authorization header: a token of our key,
// unexpired, whose sha256 claim is the body's hash.
func (b *Backend) verifyWebhook(r *http.Request, body []byte) error {
	auth := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if auth == "" {
		return ErrWebhookSignature
	}
	claims, err := Verify(b.opts.Credentials, auth, b.opts.Now())
	if err != nil {
		return errors.Join(ErrWebhookSignature, err)
	}
	sum := sha256.Sum256(body)
	want := base64.StdEncoding.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(claims.Sha256), []byte(want)) != 1 {
		return ErrWebhookSignature
	}
	return nil
}

// WebhookHandler takes LiveKit's webhooks (POST, signed with rathaus's
// API key): participant joined and left become the call's events, and a
// joined participant is checked again with Options.Admit.
func (b *Backend) WebhookHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhook))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := b.verifyWebhook(r, body); err != nil {
			b.opts.Log.Warn().Err(err).Msg("Refused a LiveKit webhook")
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var ev webhookEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, "bad JSON", http.StatusBadRequest)
			return
		}
		// Answer first: LiveKit waits for it, and a removal takes a
		// round trip to LiveKit.
		w.WriteHeader(http.StatusOK)
		b.handleWebhook(ev)
	})
}

func (b *Backend) handleWebhook(ev webhookEvent) {
	if ev.Room == nil {
		return
	}
	b.mu.Lock()
	id, known := b.byRoom[ev.Room.Name]
	c := b.calls[id]
	b.mu.Unlock()
	if !known || c == nil {
		b.opts.Log.Debug().Str("event", ev.Event).Msg("LiveKit webhook for a room rathaus does not run")
		return
	}
	now := b.opts.Now()
	switch ev.Event {
	case "participant_joined":
		if ev.Participant == nil {
			return
		}
		lkIdentity := ev.Participant.Identity
		b.mu.Lock()
		identity := string(c.ours(lkIdentity))
		b.mu.Unlock()
		why := ""
		switch {
		case !b.mayStay(id, c, identity):
			why = "joined with an outdated token"
		case ev.Participant.mayPublish() && b.publishersOver(id, c, *ev.Participant):
			// As the embedded server refuses the join: the later one.
			why = "would publish beyond video.limits.max_publishers"
		}
		if why != "" {
			b.mu.Lock()
			c.quiet[lkIdentity] = true
			room := c.room
			b.mu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := b.rs.removeParticipant(ctx, room, lkIdentity); err != nil && !isNotFound(err) {
				b.opts.Log.Warn().Err(err).Str("call", string(id)).Msg("Failed to remove a participant who may not stay")
			} else {
				b.opts.Log.Info().Str("call", string(id)).Str("why", why).Msg("Removed a participant")
			}
			return
		}
		b.mu.Lock()
		c.present[lkIdentity] = true
		b.mu.Unlock()
		b.emit(video.Event{Kind: video.EventJoined, Call: id, Identity: video.Identity(identity), At: now})
	case "participant_left", "participant_connection_aborted":
		if ev.Participant == nil {
			return
		}
		lkIdentity := ev.Participant.Identity
		b.mu.Lock()
		quiet := c.quiet[lkIdentity]
		delete(c.quiet, lkIdentity)
		delete(c.present, lkIdentity)
		identity := string(c.ours(lkIdentity))
		b.mu.Unlock()
		if !quiet {
			b.emit(video.Event{Kind: video.EventLeft, Call: id, Identity: video.Identity(identity), At: now})
		}
	}
}

// publishersOver reports whether the call has its limit of participants
// who may publish already without joiner: those who joined before it.
// LiveKit counts no publishers itself, so rathaus does it on each join,
// as the embedded server does; of two joining at once, both webhooks
// agree which came first (join time in ms, then LiveKit's participant
// id). A
// failed listing lets the join stand.
func (b *Backend) publishersOver(id video.CallID, c *lkCall, joiner lkParticipant) bool {
	b.mu.Lock()
	limit, room := c.maxPublishers, c.room
	b.mu.Unlock()
	if limit <= 0 {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	parts, err := b.rs.listParticipants(ctx, room)
	if err != nil {
		b.opts.Log.Warn().Err(err).Str("call", string(id)).Msg("Failed to count a call's publishers")
		return false
	}
	before := func(p lkParticipant) bool {
		a, j := p.joinedMs(), joiner.joinedMs()
		return a < j || (a == j && p.SID < joiner.SID)
	}
	earlier := 0
	for _, p := range parts {
		if p.Identity != joiner.Identity && p.mayPublish() && before(p) {
			earlier++
		}
	}
	return earlier >= limit
}

// mayStay: not kicked since the last grant, and admitted by the call
// service's check.
func (b *Backend) mayStay(id video.CallID, c *lkCall, identity string) bool {
	b.mu.Lock()
	for who := range c.kicked {
		if owns(identity, who) {
			b.mu.Unlock()
			return false
		}
	}
	b.mu.Unlock()
	if b.opts.Admit == nil {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return b.opts.Admit(ctx, id, identity)
}
