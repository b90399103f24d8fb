package tickets

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	mauas "maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// The staff's ticket actions. The ticket widget's API and the
// `!rathaus ticket` commands both call these, so they check the same and
// do the same: the case of the room, a member of its department's team,
// then the action. The widget's sign-in adds the room membership and power
// level checks (widgets/internal/widgetauth); a command's sender is in the
// room by sending it.

// Cases is what the ticket actions need of the case domain.
// *cases.Service implements it.
type Cases interface {
	// StaffCase is called before every action: the room's case, if user is
	// on the team of its department (else cases.ErrNotCaseRoom or
	// cases.ErrNotCaseStaff).
	StaffCase(ctx context.Context, room id.RoomID, user id.UserID) (*cases.Case, error)
	// ApplyInRoom is called to set the case's status (await_citizen,
	// resolve), with the same checks as StaffCase.
	ApplyInRoom(ctx context.Context, room id.RoomID, action cases.CaseAction, actor id.UserID, key string) (*cases.Case, error)
}

// Store is what the actions read and write in the database.
// *store.Store implements it.
type Store interface {
	Ticket(ctx context.Context, caseID protocol.CaseID) (*store.Ticket, error)
	SetTicketExternalRef(ctx context.Context, caseID protocol.CaseID, ref string) error
	CaseHistory(ctx context.Context, caseID protocol.CaseID) ([]store.CaseTransition, error)
	SubmissionHistory(ctx context.Context, caseID protocol.CaseID) ([]store.SubmissionStep, error)
}

var (
	_ Cases = (*cases.Service)(nil)
	_ Store = (*store.Store)(nil)
)

// Options configure New.
type Options struct {
	// Config returns the running config (department names).
	Config func() *config.Config
	Cases  Cases
	Store  Store
	// AS reads and writes the room's de.rathaus.ticket state as the bot.
	AS *mauas.AppService
	// Sender sends the document requests through the outbox.
	Sender *appservice.Sender
}

// Service is the staff's side of the ticket.
type Service struct {
	opts Options
	// stateMu serialises this process's read-modify-write of ticket state.
	stateMu sync.Mutex
}

// New checks the options.
func New(opts Options) (*Service, error) {
	if opts.Config == nil || opts.Cases == nil || opts.Store == nil || opts.AS == nil || opts.Sender == nil {
		return nil, fmt.Errorf("%w: Config, Cases, Store, AS and Sender", ErrMissingOption)
	}
	return &Service{opts: opts}, nil
}

// Transition is one status change of the case, for the timeline.
type Transition struct {
	From   protocol.CaseStatus `json:"from,omitempty"`
	To     protocol.CaseStatus `json:"to"`
	Action string              `json:"action"`
	// Actor is the user id of the staff member, or "citizen" / "system".
	Actor string `json:"actor"`
	// At is Unix milliseconds.
	At int64 `json:"at"`
}

// Summary is what staff see of a ticket: the hand-over, the submission,
// the linked number and the case's course. Never form contents, never
// message text.
type Summary struct {
	CaseID     protocol.CaseID     `json:"case_id"`
	Reference  string              `json:"reference"`
	Department string              `json:"department"`
	CaseStatus protocol.CaseStatus `json:"case_status"`
	// Ticket is the room's de.rathaus.ticket state.
	Ticket protocol.TicketContent `json:"ticket"`
	// SubmissionStatus is the FIT-Connect status a callback last reported
	// (submitted, forwarded, rejected, accepted), or "".
	SubmissionStatus string `json:"submission_status,omitempty"`
	// SubmissionHistory is every status callbacks reported, oldest first.
	SubmissionHistory []SubmissionStep `json:"submission_history"`
	ExternalRef       string           `json:"external_ref,omitempty"`
	// History is the case's status changes, oldest first.
	History []Transition `json:"history"`
}

// SubmissionStep is a status of the FIT-Connect submission and when
// rathaus learnt it (Unix milliseconds).
type SubmissionStep struct {
	Status string `json:"status"`
	At     int64  `json:"at"`
}

// StaffPowerLevel is the power level staff need in the case room to act
// on its ticket: a caseworker who claimed the case has it.
const StaffPowerLevel = cases.HandlingPowerLevel

// ticketCase is the case of the room for a member of its team who is
// joined to the room with StaffPowerLevel, with its ticket row.
func (s *Service) ticketCase(ctx context.Context, room id.RoomID, actor id.UserID) (*cases.Case, *store.Ticket, error) {
	c, err := s.opts.Cases.StaffCase(ctx, room, actor)
	if err != nil {
		return nil, nil, err
	}
	if err = s.checkMember(ctx, c.RoomID, actor); err != nil {
		return nil, nil, err
	}
	t, err := s.opts.Store.Ticket(ctx, c.ID)
	if err != nil {
		return nil, nil, err
	} else if t == nil {
		return nil, nil, ErrNoTicket
	}
	return c, t, nil
}

// Check reports whether actor may act on the ticket of the room: nil, or
// the refusal (cases.ErrNotCaseRoom, cases.ErrNotCaseStaff, ErrNoTicket)
// or a failure. The widget's sign-in policy calls it.
func (s *Service) Check(ctx context.Context, room id.RoomID, actor id.UserID) error {
	_, _, err := s.ticketCase(ctx, room, actor)
	return err
}

// checkMember asks the homeserver whether actor is joined to the case
// room with StaffPowerLevel: ErrNotHandling if not.
func (s *Service) checkMember(ctx context.Context, room id.RoomID, actor id.UserID) error {
	ok, err := cases.JoinedWithLevel(ctx, s.opts.AS.BotIntent(), room, actor, StaffPowerLevel)
	if err != nil {
		return err
	} else if !ok {
		return ErrNotHandling
	}
	return nil
}

// Summary returns the ticket of the room's case.
func (s *Service) Summary(ctx context.Context, room id.RoomID, actor id.UserID) (*Summary, error) {
	c, t, err := s.ticketCase(ctx, room, actor)
	if err != nil {
		return nil, err
	}
	return s.summary(ctx, c, t)
}

func (s *Service) summary(ctx context.Context, c *cases.Case, t *store.Ticket) (*Summary, error) {
	sum := &Summary{CaseID: c.ID, Reference: c.Reference, Department: c.Department.String(), CaseStatus: c.Status,
		SubmissionStatus: t.SubmissionStatus, ExternalRef: t.ExternalRef, History: []Transition{}, SubmissionHistory: []SubmissionStep{}}
	if d := s.opts.Config().Department(c.Department); d != nil {
		sum.Department = d.Name
	}
	if err := s.opts.AS.BotIntent().StateEvent(ctx, c.RoomID, protocol.TicketEventType, t.ID.String(), &sum.Ticket); err != nil {
		return nil, fmt.Errorf("failed to read the ticket state: %w", err)
	}
	history, err := s.opts.Store.CaseHistory(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	for _, h := range history {
		sum.History = append(sum.History, Transition{From: h.From, To: h.To, Action: h.Action, Actor: h.Actor, At: h.At.UnixMilli()})
	}
	steps, err := s.opts.Store.SubmissionHistory(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	for _, st := range steps {
		sum.SubmissionHistory = append(sum.SubmissionHistory, SubmissionStep{Status: st.Status, At: st.At.UnixMilli()})
	}
	return sum, nil
}

// Status is a status staff may set on a ticket's case.
type Status string

const (
	// StatusAwaitingCitizen: "Rückfrage an Bürger:in" (case action await_citizen).
	StatusAwaitingCitizen Status = "awaiting_citizen"
	// StatusResolved: "erledigt" (case action resolve).
	StatusResolved Status = "resolved"
)

// action is the case action of a status.
func (st Status) action() (cases.CaseAction, bool) {
	switch st {
	case StatusAwaitingCitizen:
		return cases.ActionAwaitCitizen, true
	case StatusResolved:
		return cases.ActionResolve, true
	}
	return "", false
}

// ParseStatus reads a status as staff type it: rueckfrage, rückfrage or
// awaiting; erledigt or resolved; or the API's names.
func ParseStatus(word string) (Status, error) {
	switch strings.ToLower(word) {
	case "rueckfrage", "rückfrage", "awaiting", string(StatusAwaitingCitizen):
		return StatusAwaitingCitizen, nil
	case "erledigt", "resolved":
		return StatusResolved, nil
	}
	return "", ErrUnknownStatus
}

// SetStatus sets the case of the room's ticket to st, as the case commands
// would. key makes the room notice's transaction id (see
// cases.Service.ApplyInRoom).
func (s *Service) SetStatus(ctx context.Context, room id.RoomID, actor id.UserID, st Status, key string) (*Summary, error) {
	action, ok := st.action()
	if !ok {
		return nil, ErrUnknownStatus
	}
	if _, _, err := s.ticketCase(ctx, room, actor); err != nil {
		return nil, err
	}
	if _, err := s.opts.Cases.ApplyInRoom(ctx, room, action, actor, key); err != nil {
		return nil, err
	}
	return s.Summary(ctx, room, actor)
}

// MaxExternalRef bounds an external ticket number.
const MaxExternalRef = 64

// ValidExternalRef reports whether ref may be linked: 1 to MaxExternalRef
// characters, ASCII letters and digits and - _ . / : #.
func ValidExternalRef(ref string) bool {
	if ref == "" || len(ref) > MaxExternalRef {
		return false
	}
	for _, r := range ref {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:#", r)
		if !ok {
			return false
		}
	}
	return true
}

// LinkExternalRef records the number of the ticket in the authority's own
// system: in the database and in the room's de.rathaus.ticket state.
func (s *Service) LinkExternalRef(ctx context.Context, room id.RoomID, actor id.UserID, ref string) (*Summary, error) {
	if !ValidExternalRef(ref) {
		return nil, ErrBadExternalRef
	}
	c, t, err := s.ticketCase(ctx, room, actor)
	if err != nil {
		return nil, err
	}
	if err = s.opts.Store.SetTicketExternalRef(ctx, c.ID, ref); err != nil {
		return nil, err
	}
	t.ExternalRef = ref
	if err = s.setStateRef(ctx, c.RoomID, t.ID, ref); err != nil {
		return nil, err
	}
	zerolog.Ctx(ctx).Info().Stringer("case_id", c.ID).Stringer("actor", actor).Msg("Linked an external ticket number")
	return s.summary(ctx, c, t)
}

// setStateRef writes the external number into the room's ticket state,
// keeping everything else of it.
func (s *Service) setStateRef(ctx context.Context, room id.RoomID, ticket protocol.TicketID, ref string) error {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	bot := s.opts.AS.BotIntent()
	var raw map[string]any
	if err := bot.StateEvent(ctx, room, protocol.TicketEventType, ticket.String(), &raw); err != nil {
		return fmt.Errorf("failed to read the ticket state: %w", err)
	}
	if raw["external_ref"] == ref {
		return nil
	}
	// The raw content, so fields this version of rathaus does not know
	// (a newer peer's) survive.
	raw["external_ref"] = ref
	if _, err := bot.SendStateEvent(ctx, room, protocol.TicketEventType, ticket.String(), raw); err != nil {
		return fmt.Errorf("failed to update the ticket state: %w", err)
	}
	return nil
}

// RequestDocuments sends the citizen the request of a template, as a
// notice in the case room that the citizen's page shows. key makes the
// notice's transaction id (the command's event id), so a retry sends it
// once.
func (s *Service) RequestDocuments(ctx context.Context, room id.RoomID, actor id.UserID, template, key string) (*Template, error) {
	tpl := TemplateByName(template)
	if tpl == nil {
		return nil, ErrUnknownTemplate
	}
	c, _, err := s.ticketCase(ctx, room, actor)
	if err != nil {
		return nil, err
	}
	if !c.Status.Open() {
		return nil, ErrCaseEnded
	}
	bot := s.opts.AS.BotIntent()
	content := &event.Content{
		Parsed: &event.MessageEventContent{MsgType: event.MsgNotice, Body: tpl.body()},
		Raw:    map[string]any{protocol.NoticeKindKey: protocol.NoticeDocumentRequest, protocol.NoticeDocumentKey: tpl.ID},
	}
	if _, err = s.opts.Sender.Send(ctx, bot, c.RoomID, event.EventMessage, content,
		appservice.TxnID(bot.UserID, c.RoomID, id.EventID(key), "documents."+tpl.ID)); err != nil {
		return nil, fmt.Errorf("failed to send the document request: %w", err)
	}
	zerolog.Ctx(ctx).Info().Stringer("case_id", c.ID).Str("template", tpl.ID).Stringer("actor", actor).Msg("Requested documents from the citizen")
	return tpl, nil
}

// at is a timestamp as staff read it.
func at(ms int64) string { return time.UnixMilli(ms).Format("02.01.2006 15:04") }
