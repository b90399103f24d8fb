package tickets

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// The status of the FIT-Connect submission a ticket names, as verified
// callbacks report it (callbacks.go): stored with the ticket, written into
// the case room's de.rathaus.ticket state and told in the room by a
// notice of the bot, which the citizen's page words in their language.

// SubmissionStore is what the submission status needs of the database.
// *store.Store implements it.
type SubmissionStore interface {
	// TicketBySubmission is called for each submission a verified
	// callback names; nil if no ticket names it.
	TicketBySubmission(ctx context.Context, submission string) (*store.Ticket, error)
	// GetCase is called for the room of the ticket's case; nil if the
	// case is gone.
	GetCase(ctx context.Context, caseID protocol.CaseID) (*store.Case, error)
	// SetTicketSubmissionStatus is called last, when the room shows the
	// new status: a callback repeated after a failure does it all again.
	SetTicketSubmissionStatus(ctx context.Context, caseID protocol.CaseID, status string) error
}

// SubmissionRooms is what the submission status needs of Matrix: the bot acting in
// a case room. internal/app implements it with the appservice.
type SubmissionRooms interface {
	// SendNotice is called once per case and status; it sends content as
	// the bot and must send it at most once per txnID, however often it
	// is called.
	SendNotice(ctx context.Context, room id.RoomID, content *event.Content, txnID string) error
	// Ticket is called before SetTicket: the room's de.rathaus.ticket
	// state with the key ticket.
	Ticket(ctx context.Context, room id.RoomID, ticket protocol.TicketID) (*protocol.TicketContent, error)
	// SetTicket writes the room's de.rathaus.ticket state (key t.ID).
	SetTicket(ctx context.Context, room id.RoomID, t *protocol.TicketContent) error
}

// SubmissionOptions configure NewSubmissions.
type SubmissionOptions struct {
	// Config returns the running config (the services' callback
	// secrets, the bot's user id).
	Config func() *config.Config
	Store  SubmissionStore
	Rooms  SubmissionRooms
	Log    zerolog.Logger
}

// Submissions takes the FIT-Connect status callbacks of the tickets'
// submissions.
type Submissions struct {
	opts SubmissionOptions
	// mu makes one report at a time: two deliveries of the same callback
	// must not both find the old status and both act on it.
	mu sync.Mutex
}

// NewSubmissions checks the options.
func NewSubmissions(opts SubmissionOptions) (*Submissions, error) {
	switch {
	case opts.Config == nil:
		return nil, fmt.Errorf("%w: Config", ErrMissingOption)
	case opts.Store == nil:
		return nil, fmt.Errorf("%w: Store", ErrMissingOption)
	case opts.Rooms == nil:
		return nil, fmt.Errorf("%w: Rooms", ErrMissingOption)
	}
	return &Submissions{opts: opts}, nil
}

// Outcome is what a report did.
type Outcome string

const (
	// OutcomeChanged: the room and the ticket show the new status.
	OutcomeChanged Outcome = "changed"
	// OutcomeUnchanged: the ticket has this status or a later one
	// already (a repeated or late callback).
	OutcomeUnchanged Outcome = "unchanged"
	// OutcomeUnknown: no ticket names the submission.
	OutcomeUnknown Outcome = "unknown_submission"
	// OutcomeOtherService: the submission's ticket came from another
	// service than the one whose secret signed the callback.
	OutcomeOtherService Outcome = "other_service"
)

// ReportSubmissionStatus records that a submission reached status, as a
// callback signed with service's secret reported it. Repeating it is
// harmless: a status at or before the ticket's is ignored, and the
// notice is sent once per case and status.
func (s *Submissions) ReportSubmissionStatus(ctx context.Context, service, submission string, status protocol.SubmissionStatus) (Outcome, error) {
	if !status.Valid() {
		return "", fmt.Errorf("%w: %q", ErrBadStatus, status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.opts.Store.TicketBySubmission(ctx, submission)
	switch {
	case err != nil:
		return "", err
	case t == nil:
		return OutcomeUnknown, nil
	case t.Service != service:
		return OutcomeOtherService, nil
	case status.Rank() <= protocol.SubmissionStatus(t.SubmissionStatus).Rank():
		return OutcomeUnchanged, nil
	}
	log := zerolog.Ctx(ctx).With().Stringer("case_id", t.CaseID).Str("submission_status", string(status)).Logger()
	c, err := s.opts.Store.GetCase(ctx, t.CaseID)
	if err != nil {
		return "", err
	}
	switch {
	case c == nil || c.Status == protocol.CasePurged:
		return OutcomeUnknown, nil // nothing of the case is left to tell
	case c.RoomID == "":
		return "", ErrNoRoom // the case is being opened: the retry finds its room
	}
	// The state first, the notice second, the database last: whatever
	// fails, the sender's retry finds the old status stored and repeats
	// what is needed, and neither step does anything twice.
	state, err := s.opts.Rooms.Ticket(ctx, c.RoomID, t.ID)
	if err != nil {
		return "", fmt.Errorf("failed to read the ticket's state: %w", err)
	}
	if state.SubmissionStatus != status {
		state.SubmissionStatus = status
		if err = s.opts.Rooms.SetTicket(ctx, c.RoomID, state); err != nil {
			return "", fmt.Errorf("failed to set the ticket's state: %w", err)
		}
	}
	bot := s.opts.Config().BotUserID()
	txnID := appservice.TxnID(bot, c.RoomID, id.EventID(t.CaseID), "submission-status:"+string(status))
	if err = s.opts.Rooms.SendNotice(ctx, c.RoomID, submissionNotice(status), txnID); err != nil {
		return "", fmt.Errorf("failed to send the submission status notice: %w", err)
	}
	if err = s.opts.Store.SetTicketSubmissionStatus(ctx, t.CaseID, string(status)); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return OutcomeUnknown, nil // the case was purged meanwhile
		}
		return "", err
	}
	log.Info().Msg("The FIT-Connect submission's status changed")
	return OutcomeChanged, nil
}

// statusWords are the statuses in German and English, for staff.
var statusWords = map[protocol.SubmissionStatus][2]string{
	protocol.SubmissionSubmitted: {"abgeschickt", "submitted"},
	protocol.SubmissionForwarded: {"weitergeleitet", "forwarded"},
	protocol.SubmissionAccepted:  {"vom Empfänger angenommen", "accepted by the receiver"},
	protocol.SubmissionRejected:  {"vom Empfänger zurückgewiesen", "rejected by the receiver"},
}

// submissionNotice is the bot's notice of a new status: German and English
// for Matrix clients, and its kind, which the citizen's page words itself.
func submissionNotice(status protocol.SubmissionStatus) *event.Content {
	w := statusWords[status]
	body := fmt.Sprintf("Status der FIT-Connect-Einreichung: %s / FIT-Connect submission status: %s", w[0], w[1])
	return &event.Content{
		Parsed: &event.MessageEventContent{MsgType: event.MsgNotice, Body: body, Mentions: &event.Mentions{}},
		Raw:    map[string]any{protocol.NoticeKindKey: status.Notice(), protocol.SubmissionStatusKey: string(status)},
	}
}
