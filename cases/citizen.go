package cases

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/departments"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// The citizen's voice: what a channel (the guest chat today) does in the
// case room on the citizen's behalf, as the case's ghost. Every send is
// idempotent by the channel's transaction id.

// CitizenOpen is a citizen's request, through a channel, to open a case or
// to come back to the one their session has.
type CitizenOpen struct {
	// Session is the hash of the channel session; it binds at most one
	// case (see store.NewCase.Session).
	Session    string
	Department protocol.DepartmentID
	// Service is the LeiKa key the citizen came from, or "".
	Service string
	// Name is the citizen's chosen name, or "".
	Name string
	// Question becomes the first message of the case room, or "".
	Question string
	// TxnID is the channel's id for the question.
	TxnID string
	// Ticket is the OZG hand-over the citizen came with, or nil; it is
	// used only when the case is opened (or its opening finished).
	Ticket *protocol.TicketContent
}

// File is a file a citizen sends.
type File struct {
	Name, Type string
	Data       []byte
}

// OpenForCitizen opens the session's case, or finishes and returns the one
// it has (created false). The question is sent once per case, whichever
// request sends it. It is safe to call again with the same request after
// an error: nothing is done twice.
func (s *Service) OpenForCitizen(ctx context.Context, req CitizenOpen) (*Case, bool, error) {
	defer s.opening.lock(req.Session)()
	c, created, err := s.sessionCase(ctx, req)
	if c == nil || err != nil {
		return c, created, err
	}
	if !created {
		// An earlier request may have stopped half-way (crash, homeserver
		// away); every step of the setup is idempotent.
		d := s.config().Department(protocol.DepartmentID(c.Department))
		if d == nil {
			return c, created, fmt.Errorf("%w: %s", departments.ErrUnknownDepartment, c.Department)
		}
		if err = s.setUpCaseRoom(ctx, c, d, openCaseRequest(d.ID, req)); err != nil {
			return c, created, err
		}
	}
	if req.Question != "" && c.Status.Open() {
		if err = s.sendAsCitizen(ctx, c, &event.MessageEventContent{MsgType: event.MsgText, Body: req.Question,
			Mentions: &event.Mentions{}}, req.TxnID, id.EventID("question:"+c.ID)); err != nil {
			return c, created, err
		}
	}
	return c, created, nil
}

// sessionCase returns the session's case, opening it if the session has
// none yet.
func (s *Service) sessionCase(ctx context.Context, req CitizenOpen) (*Case, bool, error) {
	load := func() (*Case, error) {
		gs, err := s.opts.Store.GetGuestSession(ctx, req.Session)
		if err != nil {
			return nil, err
		} else if gs == nil {
			return nil, fmt.Errorf("%w: the session expired", ErrSessionGone)
		} else if gs.CaseID == "" {
			return nil, nil
		}
		c, err := s.Case(ctx, gs.CaseID)
		if err == nil && c == nil {
			err = fmt.Errorf("%w: the session's case is gone", ErrSessionGone)
		}
		return c, err
	}
	if c, err := load(); c != nil || err != nil {
		return c, false, err
	}
	d := s.config().Department(req.Department)
	if d == nil {
		return nil, false, fmt.Errorf("%w: %s", departments.ErrUnknownDepartment, req.Department)
	}
	c, err := s.OpenCase(ctx, openCaseRequest(d.ID, req))
	if errors.Is(err, store.ErrConflict) {
		// Bound by another process in the meantime.
		c, err = load()
		if c == nil && err == nil {
			err = fmt.Errorf("%w: the session has no case", ErrSessionGone)
		}
		return c, false, err
	}
	return c, c != nil, err
}

// openCaseRequest is how a citizen's request opens (or finishes opening)
// their case: the same on every try, so a retry announces the case as the
// first try would have.
func openCaseRequest(dept protocol.DepartmentID, req CitizenOpen) OpenCaseRequest {
	return OpenCaseRequest{Department: dept, DisplayName: req.Name, Service: req.Service, Question: req.Question,
		Session: req.Session, Ticket: req.Ticket}
}

// sendAsCitizen sends content as the citizen's ghost, once per cause, and
// counts it as the citizen's activity; a case that waited for the citizen
// becomes active again.
func (s *Service) sendAsCitizen(ctx context.Context, c *Case, content any, channelTxn string, cause id.EventID) error {
	ghost := s.opts.AS.Intent(c.Ghost)
	wrapped := &event.Content{Parsed: content, Raw: map[string]any{protocol.GuestTxnKey: channelTxn}}
	if _, err := s.opts.Sender.Send(ctx, ghost, c.RoomID, event.EventMessage, wrapped, appservice.TxnID(c.Ghost, c.RoomID, cause, "citizen-message")); err != nil {
		return fmt.Errorf("failed to send the citizen's message: %w", err)
	}
	if err := s.opts.Store.TouchCitizen(ctx, c.ID, time.Now()); err != nil {
		return err
	}
	if c.Status == protocol.CaseAwaitingCitizen {
		if _, err := s.applyCaseAction(ctx, c, ActionCitizenReply, c.Ghost); err != nil && !errors.Is(err, errCaseChanged) {
			zerolog.Ctx(ctx).Warn().Err(err).Stringer("case_id", c.ID).Msg("Failed to mark the case answered")
		}
	}
	return nil
}

// SendCitizenMessage sends the citizen's text into the case room once per
// txnID. ErrCaseNotOpen if the case has ended.
func (s *Service) SendCitizenMessage(ctx context.Context, c *Case, txnID, body string) error {
	if !c.Status.Open() || c.RoomID == "" {
		return ErrCaseNotOpen
	}
	return s.sendAsCitizen(ctx, c, &event.MessageEventContent{MsgType: event.MsgText, Body: body,
		Mentions: &event.Mentions{}}, txnID, id.EventID("guest:"+txnID))
}

// SendCitizenFile uploads a file as the ghost and sends it once per txnID.
// The channel has checked its type and size. ErrCaseNotOpen if the case
// has ended.
func (s *Service) SendCitizenFile(ctx context.Context, c *Case, txnID string, f File) error {
	if !c.Status.Open() || c.RoomID == "" {
		return ErrCaseNotOpen
	}
	ghost := s.opts.AS.Intent(c.Ghost)
	// Uploaded without its name: the name is the citizen's text, and the
	// client logs request URLs at debug level. The event carries the name.
	up, err := ghost.UploadBytes(ctx, f.Data, f.Type)
	if err != nil {
		return fmt.Errorf("failed to upload the citizen's file: %w", err)
	}
	msgType := event.MsgFile
	if f.Type != "application/pdf" {
		msgType = event.MsgImage
	}
	content := &event.MessageEventContent{MsgType: msgType, Body: f.Name, FileName: f.Name, URL: up.ContentURI.CUString(),
		Info: &event.FileInfo{MimeType: f.Type, Size: len(f.Data)}, Mentions: &event.Mentions{}}
	return s.sendAsCitizen(ctx, c, content, txnID, id.EventID("guest:"+txnID))
}

// CloseByCitizen ends the case on the citizen's behalf and tells staff.
// ErrCaseNotOpen if it changed meanwhile.
func (s *Service) CloseByCitizen(ctx context.Context, c *Case) error {
	if _, err := s.applyCaseAction(ctx, c, ActionClose, c.Ghost); errors.Is(err, errCaseChanged) {
		return ErrCaseNotOpen
	} else if err != nil {
		return err
	}
	botIntent := s.opts.AS.BotIntent()
	notice := taggedNotice(protocol.NoticeCitizenClosed, "Die Bürgerin oder der Bürger hat das Gespräch beendet. / The citizen ended the conversation.", "")
	_, err := s.opts.Sender.Send(ctx, botIntent, c.RoomID, event.EventMessage, notice, appservice.TxnID(botIntent.UserID, c.RoomID, id.EventID(c.ID), "citizen-closed"))
	return err
}

// CitizenTyping tells the room that the citizen is (not) typing.
func (s *Service) CitizenTyping(ctx context.Context, c *Case, typing bool) error {
	if c.RoomID == "" {
		return nil
	}
	_, err := s.opts.AS.Intent(c.Ghost).UserTyping(ctx, c.RoomID, typing, 10*time.Second)
	return err
}

// CitizenRead sends the ghost's read receipt for an event.
func (s *Service) CitizenRead(ctx context.Context, c *Case, evt id.EventID) error {
	if c.RoomID == "" {
		return nil
	}
	return s.opts.AS.Intent(c.Ghost).MarkRead(ctx, c.RoomID, evt)
}

// Media downloads a file of a case room as the bot.
func (s *Service) Media(ctx context.Context, uri id.ContentURIString) (io.ReadCloser, error) {
	return appservice.Download(ctx, s.opts.AS.BotClient(), uri)
}
