package bridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
	"github.com/rathaus-de/rathaus/widgets/guestchat"
)

// guestTxnKey carries the citizen's client transaction id in the content
// of their messages, so the page can match its pending message to the
// event.
const guestTxnKey = "de.rathaus.guest_txn"

// guestBackend is the bridge as the guest chat sees it.
type guestBackend struct {
	b *Bridge
	// opening serialises OpenCase per session, so two requests of one
	// session never set up the same case room twice.
	opening keyedMutex
}

var _ guestchat.Backend = (*guestBackend)(nil)

// keyedMutex is a mutex per key, forgotten when unused.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedEntry
}

type keyedEntry struct {
	sync.Mutex
	users int
}

func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = make(map[string]*keyedEntry)
	}
	e := k.locks[key]
	if e == nil {
		e = &keyedEntry{}
		k.locks[key] = e
	}
	e.users++
	k.mu.Unlock()
	e.Lock()
	return func() {
		e.Unlock()
		k.mu.Lock()
		if e.users--; e.users == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}

func (g *guestBackend) Department(depID string) (guestchat.Department, bool) {
	d := g.b.config().Department(config.DepartmentID(depID))
	if d == nil {
		return guestchat.Department{}, false
	}
	now := time.Now()
	out := guestchat.Department{ID: string(d.ID), Name: d.Name, Description: d.Description,
		Open: d.Schedule.IsOpen(now), OfficeHours: d.Schedule.Summary()}
	if !out.Open {
		if next, ok := d.Schedule.NextOpening(now); ok {
			out.NextOpening = next
		}
	}
	return out, true
}

func (g *guestBackend) DepartmentForService(key string) (string, bool) {
	if d := g.b.config().DepartmentForService(key); d != nil {
		return string(d.ID), true
	}
	return "", false
}

func (g *guestBackend) Authority() guestchat.Authority {
	a := g.b.config().Authority
	return guestchat.Authority{Name: a.Name, PrivacyURL: a.PrivacyURL, ContactURL: a.ContactURL}
}

// OpenCase opens the session's case, or finishes and returns the one it
// has. The question is sent once per case, whichever request sends it.
func (g *guestBackend) OpenCase(ctx context.Context, req guestchat.OpenRequest) (*store.Case, bool, error) {
	b := g.b
	defer g.opening.lock(req.SessionHash)()
	c, created, err := g.sessionCase(ctx, req)
	if c == nil || err != nil {
		return c, created, err
	}
	if !created {
		// An earlier request may have stopped half-way (crash, homeserver
		// away); every step of the setup is idempotent.
		d := b.config().Department(config.DepartmentID(c.Department))
		if d == nil {
			return c, created, guestchat.ErrUnknownDepartment
		}
		if err = b.setUpCaseRoom(ctx, c, d, OpenCaseRequest{Department: d.ID, DisplayName: req.Name}); err != nil {
			return c, created, err
		}
	}
	if req.Question != "" && protocol.CaseStatus(c.Status).Open() {
		if err = g.send(ctx, c, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: req.Question,
			Mentions: &event.Mentions{}}, req.TxnID, id.EventID("question:"+c.ID)); err != nil {
			return c, created, err
		}
	}
	return c, created, nil
}

// sessionCase returns the session's case, opening it if the session has
// none yet.
func (g *guestBackend) sessionCase(ctx context.Context, req guestchat.OpenRequest) (*store.Case, bool, error) {
	b := g.b
	load := func() (*store.Case, error) {
		gs, err := b.store.GetGuestSession(ctx, req.SessionHash)
		if err != nil {
			return nil, err
		} else if gs == nil {
			return nil, errors.New("the guest session expired")
		} else if gs.CaseID == "" {
			return nil, nil
		}
		c, err := b.store.GetCase(ctx, gs.CaseID)
		if err == nil && c == nil {
			err = errors.New("the session's case is gone")
		}
		return c, err
	}
	if c, err := load(); c != nil || err != nil {
		return c, false, err
	}
	d := b.config().Department(config.DepartmentID(req.Department))
	if d == nil {
		return nil, false, guestchat.ErrUnknownDepartment
	}
	topic := ""
	if req.Service != "" {
		topic = "Leistung " + req.Service
	}
	c, err := b.OpenCase(ctx, OpenCaseRequest{Department: d.ID, DisplayName: req.Name, Topic: topic, Session: req.SessionHash})
	if errors.Is(err, store.ErrConflict) {
		// Bound by another process in the meantime.
		c, err = load()
		if c == nil && err == nil {
			err = errors.New("the session has no case")
		}
		return c, false, err
	}
	return c, c != nil, err
}

// send sends content as the citizen's ghost, once per cause.
func (g *guestBackend) send(ctx context.Context, c *store.Case, t event.Type, content any, guestTxn string, cause id.EventID) error {
	b := g.b
	ghost := b.as.Intent(c.Ghost)
	wrapped := &event.Content{Parsed: content, Raw: map[string]any{guestTxnKey: guestTxn}}
	if _, err := b.sender.Send(ctx, ghost, c.RoomID, t, wrapped, TxnID(c.Ghost, c.RoomID, cause, "citizen-message")); err != nil {
		return fmt.Errorf("failed to send the citizen's message: %w", err)
	}
	now := time.Now()
	if err := b.store.TouchCitizen(ctx, c.ID, now); err != nil {
		return err
	}
	if c.Status == string(protocol.CaseAwaitingCitizen) {
		if _, err := b.applyCaseAction(ctx, c, ActionCitizenReply, c.Ghost); err != nil && !errors.Is(err, errCaseChanged) {
			zerolog.Ctx(ctx).Warn().Err(err).Str("case_id", c.ID).Msg("Failed to mark the case answered")
		}
	}
	return nil
}

func (g *guestBackend) SendMessage(ctx context.Context, c *store.Case, txnID, body string) error {
	if !protocol.CaseStatus(c.Status).Open() || c.RoomID == "" {
		return guestchat.ErrCaseNotOpen
	}
	return g.send(ctx, c, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: body,
		Mentions: &event.Mentions{}}, txnID, id.EventID("guest:"+txnID))
}

func (g *guestBackend) SendAttachment(ctx context.Context, c *store.Case, txnID string, a guestchat.Attachment) error {
	if !protocol.CaseStatus(c.Status).Open() || c.RoomID == "" {
		return guestchat.ErrCaseNotOpen
	}
	ghost := g.b.as.Intent(c.Ghost)
	// Uploaded without its name: the name is the citizen's text, and the
	// client logs request URLs at debug level. The event carries the name.
	up, err := ghost.UploadBytes(ctx, a.Data, a.Type)
	if err != nil {
		return fmt.Errorf("failed to upload the citizen's file: %w", err)
	}
	msgType := event.MsgFile
	if a.Type != "application/pdf" {
		msgType = event.MsgImage
	}
	content := &event.MessageEventContent{MsgType: msgType, Body: a.Name, FileName: a.Name, URL: up.ContentURI.CUString(),
		Info: &event.FileInfo{MimeType: a.Type, Size: len(a.Data)}, Mentions: &event.Mentions{}}
	return g.send(ctx, c, event.EventMessage, content, txnID, id.EventID("guest:"+txnID))
}

func (g *guestBackend) CloseCase(ctx context.Context, c *store.Case) error {
	b := g.b
	if _, err := b.applyCaseAction(ctx, c, ActionClose, c.Ghost); errors.Is(err, errCaseChanged) {
		return guestchat.ErrCaseNotOpen
	} else if err != nil {
		return err
	}
	bot := b.as.BotIntent()
	notice := &event.MessageEventContent{MsgType: event.MsgNotice, Body: "Die Bürgerin oder der Bürger hat das Gespräch beendet. / The citizen ended the conversation."}
	_, err := b.sender.Send(ctx, bot, c.RoomID, event.EventMessage, notice, TxnID(bot.UserID, c.RoomID, id.EventID(c.ID), "citizen-closed"))
	return err
}

func (g *guestBackend) Typing(ctx context.Context, c *store.Case, typing bool) error {
	if c.RoomID == "" {
		return nil
	}
	_, err := g.b.as.Intent(c.Ghost).UserTyping(ctx, c.RoomID, typing, 10*time.Second)
	return err
}

func (g *guestBackend) MarkRead(ctx context.Context, c *store.Case, evt id.EventID) error {
	if c.RoomID == "" {
		return nil
	}
	return g.b.as.Intent(c.Ghost).MarkRead(ctx, c.RoomID, evt)
}

// Media downloads a file as the bot, through authenticated media (Matrix
// v1.11) and, on servers without it, the older unauthenticated endpoint.
func (g *guestBackend) Media(ctx context.Context, uri id.ContentURIString) (io.ReadCloser, error) {
	parsed, err := uri.Parse()
	if err != nil {
		return nil, err
	}
	cli := g.b.as.BotClient()
	resp, err := cli.Download(ctx, parsed)
	var httpErr mautrix.HTTPError
	if err != nil && errors.As(err, &httpErr) && httpErr.Response != nil &&
		(httpErr.Response.StatusCode == http.StatusNotFound || httpErr.Response.StatusCode == http.StatusMethodNotAllowed) &&
		(httpErr.RespError == nil || httpErr.RespError.ErrCode == "M_UNRECOGNIZED") {
		legacy := cli.BuildURL(mautrix.MediaURLPath{"v3", "download", parsed.Homeserver, parsed.FileID})
		_, resp, err = cli.MakeFullRequestWithResp(ctx, mautrix.FullRequest{Method: http.MethodGet, URL: legacy, DontReadResponse: true})
	}
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
