package cases

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/bot"
	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/departments"
	"github.com/rathaus-de/rathaus/internal/plaintext"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// OpenCaseRequest is what the citizen's channel asks for.
type OpenCaseRequest struct {
	Department protocol.DepartmentID
	// DisplayName is the name the citizen chose, or "".
	DisplayName string
	// Topic is a short, staff-facing subject in rathaus's own words; it
	// is shown in the staff room's announcement. Never the citizen's text.
	Topic string
	// Service is the service (LeiKa key) the citizen's channel reported,
	// or "". The citizen chose it, so the announcement shows it as their
	// statement, not as the bot's words.
	Service string
	// Question is the citizen's first message, or "". The announcement
	// quotes its first lines (the staff room is private to the
	// department); the channel sends the message itself. Without it the
	// announcement quotes the first message already in the case's
	// timeline, if any.
	Question string
	// Session is the hash of the guest session opening the case, or "".
	// A session opens at most one case (store.ErrConflict otherwise).
	Session string
	// Ticket is the OZG hand-over the case opens with, or nil. It becomes
	// the room's de.rathaus.ticket state and the case's first notice for
	// staff. An empty ID is the case's id.
	Ticket *protocol.TicketContent
}

// maxDisplayName bounds the citizen's chosen name.
const maxDisplayName = 64

// GhostDisplayName is how a citizen appears to staff: the chosen name with
// " (Gast)", or "Bürger:in".
func GhostDisplayName(chosen string) string {
	// One line without padding, invisible or bidi characters, so nothing
	// can hide the " (Gast)" after it.
	name := plaintext.Line(chosen, maxDisplayName)
	if name == "" {
		return "Bürger:in"
	}
	return name + " (Gast)"
}

// OpenCase opens a citizen case: a queued case with its reference, a ghost
// that speaks for the citizen, a case room in the department's space, and
// an announcement in the staff room.
func (s *Service) OpenCase(ctx context.Context, req OpenCaseRequest) (*Case, error) {
	d := s.config().Department(req.Department)
	if d == nil {
		return nil, fmt.Errorf("%w: %s", departments.ErrUnknownDepartment, req.Department)
	}
	opaque := make([]byte, 12)
	if _, err := rand.Read(opaque); err != nil {
		return nil, fmt.Errorf("failed to make a ghost id: %w", err)
	}
	prefix := d.ReferencePrefix
	caseID := protocol.CaseID(uuid.NewString())
	var ticketRef protocol.TicketID
	var ticketRow *store.NewTicket
	if req.Ticket != nil {
		if ticketRef = req.Ticket.ID; ticketRef == "" {
			ticketRef = protocol.TicketID(caseID)
		}
		ticketRow = &store.NewTicket{ID: ticketRef, Submission: req.Ticket.FITConnect.Submission}
		if req.Ticket.Verified {
			ticketRow.Service = req.Ticket.Service.ID
		}
	}
	row, err := s.opts.Store.CreateCase(ctx, store.NewCase{
		ID: caseID, Department: d.ID, Status: protocol.CaseQueued, TicketRef: ticketRef, Ticket: ticketRow,
		Ghost: s.config().GhostUserID("guest_" + hex.EncodeToString(opaque)), Actor: "citizen", Session: req.Session,
		Reference: func(year, seq int) string { return FormatReference(prefix, year, seq) },
	})
	if err != nil {
		return nil, err
	}
	c := caseOf(row)
	log := zerolog.Ctx(ctx).With().Stringer("case_id", c.ID).Logger()
	ctx = log.WithContext(ctx)
	log.Info().Stringer("department", c.Department).Msg("Opened case")
	if err = s.setUpCaseRoom(ctx, c, d, req); err != nil {
		return c, err
	}
	return c, nil
}

// setUpCaseRoom makes the ghost, the room and the announcement. Every
// step can run again after a failure without doing anything twice.
func (s *Service) setUpCaseRoom(ctx context.Context, c *Case, d *config.DepartmentConfig, req OpenCaseRequest) error {
	botIntent := s.opts.AS.BotIntent()
	ghost := s.opts.AS.Intent(c.Ghost)
	if err := ghost.EnsureRegistered(ctx); err != nil {
		return fmt.Errorf("failed to register the citizen's ghost: %w", err)
	}
	if err := ghost.SetDisplayName(ctx, GhostDisplayName(req.DisplayName)); err != nil {
		return fmt.Errorf("failed to name the citizen's ghost: %w", err)
	}
	space, err := s.opts.Departments.Space(ctx, d.ID)
	if err != nil {
		return err
	}
	if c.RoomID == "" {
		content := s.caseContent(c, nil)
		initial := []*event.Event{
			appservice.StateEvent(protocol.CaseEventType, "", content),
			appservice.StateEvent(event.StateHistoryVisibility, "", &event.HistoryVisibilityEventContent{HistoryVisibility: event.HistoryVisibilityShared}),
			appservice.StateEvent(event.StateGuestAccess, "", &event.GuestAccessEventContent{GuestAccess: event.GuestAccessForbidden}),
		}
		if req.Ticket != nil && c.TicketRef != "" {
			ticket := *req.Ticket
			ticket.ID = c.TicketRef
			initial = append(initial, appservice.StateEvent(protocol.TicketEventType, ticket.ID.String(), &ticket))
			if url := s.config().TicketWidgetURL(); url != "" {
				initial = append(initial, appservice.StateEvent(protocol.WidgetEventType, protocol.TicketWidgetID, ticketWidget(url, botIntent.UserID)))
			}
		}
		if space != "" {
			initial = append(initial, appservice.StateEvent(event.StateSpaceParent, space.String(), appservice.SpaceParent(s.serverName())))
		}
		resp, err := botIntent.CreateRoom(ctx, &mautrix.ReqCreateRoom{
			Visibility: "private", Preset: "private_chat",
			Name:         fmt.Sprintf("%s · %s", c.Reference, d.Name),
			Invite:       []id.UserID{c.Ghost},
			InitialState: initial,
			PowerLevelOverride: departments.RoomPolicy(false).CreateContent(caseRoomUsers(botIntent.UserID, nil), botIntent.UserID,
				s.opts.Capabilities.DefaultRoomVersion()),
		})
		if err != nil {
			return fmt.Errorf("failed to create the case room: %w", err)
		}
		c.RoomID = resp.RoomID
		if err = s.opts.Store.SetCaseRoom(ctx, c.ID, c.RoomID); err != nil {
			return err
		}
		s.opts.Rooms.Set(c.RoomID, bot.RoomInfo{Kind: bot.RoomCase, Key: c.ID.String()})
	}
	if err = ghost.EnsureJoined(ctx, c.RoomID); err != nil {
		return fmt.Errorf("failed to join the citizen's ghost: %w", err)
	}
	if space != "" {
		if err = s.linkCaseRoom(ctx, space, c.RoomID, true); err != nil {
			return err
		}
	}
	a := announcement{Topic: req.Topic, Service: req.Service, Question: req.Question}
	if req.Ticket != nil && c.TicketRef != "" {
		ticket := *req.Ticket
		ticket.ID = c.TicketRef
		if err = s.sendTicketSummary(ctx, c, d, &ticket); err != nil {
			return err
		}
		a.Topic, a.Service = ticketTopic(&ticket), ""
	}
	return s.announceCase(ctx, c, d, a, id.EventID(c.ID))
}

// caseContent is the de.rathaus.case state of a case.
func (s *Service) caseContent(c *Case, assignees []id.UserID) *protocol.CaseContent {
	if assignees == nil {
		assignees = []id.UserID{}
	}
	content := &protocol.CaseContent{ID: c.ID, Reference: c.Reference, Status: c.Status,
		Department: c.Department, Assignees: assignees, TicketRef: c.TicketRef.String()}
	if !c.RetainUntil.IsZero() {
		content.RetainUntil = c.RetainUntil.UnixMilli()
	}
	return content
}
