package embedded

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/rathaus-de/rathaus/video"
	"github.com/rathaus-de/rathaus/video/sfu"
	"github.com/rathaus-de/rathaus/video/signal"
)

const (
	// sendQueue bounds the messages waiting for a slow client; a client
	// that falls that far behind is disconnected.
	sendQueue    = 128
	writeTimeout = 5 * time.Second
	// idleTimeout closes a socket that sent nothing (not even a ping)
	// for that long; pages ping every 20 s.
	idleTimeout = 60 * time.Second
	// messageRate and messageBurst bound what one client may send.
	messageRate  = 50
	messageBurst = 200
)

// closeCause is why the server ends a connection.
type closeCause struct {
	reason signal.Reason
	code   websocket.StatusCode
}

var (
	closeKicked   = closeCause{signal.ReasonKicked, websocket.StatusNormalClosure}
	closeEnded    = closeCause{signal.ReasonEnded, websocket.StatusNormalClosure}
	closeReplaced = closeCause{signal.ReasonReplaced, websocket.StatusNormalClosure}
	closeLeft     = closeCause{signal.ReasonLeft, websocket.StatusNormalClosure}
	closeTimeout  = closeCause{signal.ReasonTimeout, websocket.StatusPolicyViolation}
	closeRate     = closeCause{signal.ReasonRateLimited, websocket.StatusPolicyViolation}
	closeSlow     = closeCause{signal.ReasonServerError, websocket.StatusTryAgainLater}
)

// conn is one participant's signalling socket.
type conn struct {
	b    *Backend
	ws   *websocket.Conn
	call *call
	who  video.Identity

	grantID      string
	grantExpires time.Time
	part         *sfu.Participant

	out       chan signal.Message
	done      chan struct{}
	closeOnce sync.Once
	cause     closeCause
}

// ServeHTTP is the signalling endpoint: GET ?call=<id> upgraded to a
// WebSocket. Browsers send their page's Origin; coder/websocket accepts
// only the same host unless the operator's reverse proxy rewrites it.
func (b *Backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := video.CallID(r.URL.Query().Get("call"))
	if id == "" || len(id) > 256 {
		http.Error(w, "a call is required", http.StatusBadRequest)
		return
	}
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept answered the request
	}
	ws.SetReadLimit(signal.MaxMessageSize)
	c := &conn{b: b, ws: ws, out: make(chan signal.Message, sendQueue), done: make(chan struct{})}
	go c.writeLoop()
	c.serve(r.Context(), id)
}

// serve runs the connection until it ends: join first, then the
// participant's messages.
func (c *conn) serve(ctx context.Context, id video.CallID) {
	defer c.close(closeLeft)
	jctx, cancel := context.WithTimeout(ctx, c.b.opts.JoinTimeout)
	m, err := c.read(jctx)
	cancel()
	if err != nil {
		c.refuseAndClose(signal.ReasonTimeout, "no join in time")
		return
	}
	if m.Type != signal.TypeJoin {
		c.refuseAndClose(signal.ReasonBadMessage, "the first message must be join")
		return
	}
	if !c.join(id, m.Grant, m.Description) {
		return
	}
	limiter := rate.NewLimiter(messageRate, messageBurst)
	for {
		rctx, cancel := context.WithTimeout(ctx, idleTimeout)
		raw, err := c.readRaw(rctx)
		cancel()
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				c.close(closeTimeout)
			}
			return
		}
		if !limiter.Allow() {
			c.close(closeRate)
			return
		}
		m, err := signal.Decode(raw)
		if err != nil {
			c.send(signal.Error(signal.ReasonBadMessage, err.Error()))
			continue
		}
		if !c.handle(m) {
			return
		}
	}
}

// join checks the grant and enters the room.
func (c *conn) join(id video.CallID, token string, offer *signal.SessionDescription) bool {
	b := c.b
	claims, err := video.VerifyGrant(b.opts.GrantKeys, token, id, b.opts.Now())
	if err != nil {
		reason := signal.ReasonGrantInvalid
		if errors.Is(err, video.ErrGrantExpired) {
			reason = signal.ReasonGrantExpired
		}
		c.refuseAndClose(reason, "the grant was refused")
		return false
	}
	b.mu.Lock()
	cl := b.calls[id]
	var old *conn
	if cl != nil {
		if _, revoked := cl.revoked[claims.ID]; revoked {
			b.mu.Unlock()
			c.refuseAndClose(signal.ReasonGrantInvalid, "the grant was withdrawn")
			return false
		}
		old = cl.conns[claims.Identity]
		if old != nil && old.part != nil {
			cl.leaving[old.part] = true
		}
	}
	b.mu.Unlock()
	if cl == nil {
		c.refuseAndClose(signal.ReasonEnded, "the call does not exist")
		return false
	}
	if old != nil {
		old.close(closeReplaced)
		if old.part != nil {
			old.part.Leave()
		}
	}
	rights := sfu.Rights{Publish: claims.Rights.Publish, Subscribe: claims.Rights.Subscribe,
		ScreenShare: claims.Rights.ScreenShare}
	part, err := cl.room.Join(randomID(), string(claims.Identity), claims.Rights.Role, rights, c.send)
	if err != nil {
		reason := signal.ReasonServerError
		switch {
		case errors.Is(err, sfu.ErrRoomFull):
			reason = signal.ReasonCallFull
			// The operator's hint: the cap is the embedded server's.
			b.opts.Log.Warn().Str("call", string(cl.id)).
				Msg("A join was refused: the call is at video.limits.max_participants; for larger calls (council sessions, many listeners) run the calls on LiveKit (video.backend: livekit, docs/video.md)")
		case errors.Is(err, sfu.ErrTooManyPublishers):
			reason = signal.ReasonTooManyPub
		case errors.Is(err, sfu.ErrRoomClosed):
			reason = signal.ReasonEnded
		default:
			b.opts.Log.Warn().Err(err).Msg("Failed to join a participant")
		}
		c.refuseAndClose(reason, "the call refused the join")
		return false
	}
	c.who, c.call, c.part = claims.Identity, cl, part
	c.grantID, c.grantExpires = claims.ID, time.Unix(claims.Expires, 0)
	b.mu.Lock()
	cl.conns[claims.Identity] = c
	b.mu.Unlock()
	var others []signal.Participant
	for _, p := range cl.room.Participants() {
		if p != part {
			others = append(others, p.View())
		}
	}
	self := part.View()
	c.send(signal.Message{Type: signal.TypeJoined, Self: &self, Participants: others})
	if offer != nil {
		if err := part.Peer().HandleSDP(*offer); err != nil {
			c.send(signal.Error(signal.ReasonBadMessage, "the session description was refused"))
		}
	}
	part.Start()
	cl.room.Broadcast(signal.Message{Type: signal.TypeParticipant, Event: signal.EventJoined, Participant: &self}, part)
	return true
}

// handle acts on one message; false ends the connection.
func (c *conn) handle(m signal.Message) bool {
	switch m.Type {
	case signal.TypeSDP:
		if err := c.part.Peer().HandleSDP(*m.Description); err != nil {
			c.send(signal.Error(signal.ReasonBadMessage, "the session description was refused"))
		}
	case signal.TypeCandidate:
		if err := c.part.Peer().HandleCandidate(*m.Candidate); err != nil {
			c.send(signal.Error(signal.ReasonBadMessage, "the candidate was refused"))
		}
	case signal.TypeMute:
		c.part.SetMuted(m.Kind, *m.Muted)
	case signal.TypeScreen:
		c.part.SetScreenStream(m.Stream)
	case signal.TypePing:
		c.send(signal.Message{Type: signal.TypePong})
	case signal.TypeLeave:
		c.close(closeLeft)
		return false
	case signal.TypeJoin:
		c.send(signal.Error(signal.ReasonBadMessage, "already joined"))
	default:
	}
	return true
}

func (c *conn) readRaw(ctx context.Context) ([]byte, error) {
	typ, raw, err := c.ws.Read(ctx)
	if err != nil {
		return nil, err
	}
	if typ != websocket.MessageText {
		return nil, errors.New("video: binary frames are not part of the protocol")
	}
	return raw, nil
}

func (c *conn) read(ctx context.Context) (signal.Message, error) {
	raw, err := c.readRaw(ctx)
	if err != nil {
		return signal.Message{}, err
	}
	return signal.Decode(raw)
}

// send queues a message; a client too slow to take it is disconnected.
func (c *conn) send(m signal.Message) {
	select {
	case <-c.done:
	case c.out <- m:
	default:
		go c.close(closeSlow)
	}
}

func (c *conn) muteRequest(kind string) {
	k := signal.KindAudio
	if kind == string(signal.KindVideo) {
		k = signal.KindVideo
	}
	c.send(signal.Message{Type: signal.TypeMuteRequest, Kind: k})
}

func (c *conn) writeLoop() {
	for {
		select {
		case m := <-c.out:
			if !c.write(m) {
				return
			}
		case <-c.done:
			// The close message, if any, was queued before done closed.
			for {
				select {
				case m := <-c.out:
					if !c.write(m) {
						return
					}
				default:
					_ = c.ws.Close(c.cause.code, string(c.cause.reason))
					return
				}
			}
		}
	}
}

func (c *conn) write(m signal.Message) bool {
	raw, err := signal.Encode(m)
	if err != nil {
		return true // never sent; the protocol's own messages are small
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, raw) == nil
}

// refuseAndClose answers a refused join and closes.
func (c *conn) refuseAndClose(reason signal.Reason, msg string) {
	c.send(signal.Error(reason, msg))
	c.close(closeCause{reason, websocket.StatusPolicyViolation})
}

// close ends the connection once: the client learns why, the participant
// leaves the room.
func (c *conn) close(cause closeCause) {
	c.closeOnce.Do(func() {
		c.cause = cause
		if c.part != nil && cause.reason != signal.ReasonLeft {
			select {
			case c.out <- signal.Closed(cause.reason):
			default:
			}
		}
		close(c.done)
		if c.call != nil {
			c.b.mu.Lock()
			if c.call.conns[c.who] == c {
				delete(c.call.conns, c.who)
			}
			c.b.mu.Unlock()
		}
		if c.part != nil {
			c.part.Leave()
		}
	})
}
