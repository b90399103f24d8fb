// Package cases is the citizen case: it opens a case (reference, ghost,
// private case room in the department's space, announcement to the
// staff), speaks for the citizen in the room, lets staff claim, resolve,
// close, reopen and transfer it, keeps the timeline the citizen may see,
// and ends cases by the retention rules. Channels (the guest chat, later
// e-mail and the OZG hand-over) call it and follow a case through its
// Subscribe feed; it knows none of them.
package cases

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"
	mauas "maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/bot"
	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// Departments is what cases need to know about a department's rooms.
// *departments.Service implements it.
type Departments interface {
	// StaffRoom is called when a case is announced; "" if the department
	// has no staff room (yet).
	StaffRoom(ctx context.Context, dept protocol.DepartmentID) (id.RoomID, error)
	// Space is called when a case room is linked into (or out of) its
	// department's space; "" if the department has no space (yet).
	Space(ctx context.Context, dept protocol.DepartmentID) (id.RoomID, error)
}

// Options configure New.
type Options struct {
	// Config returns the running config; it changes on reload.
	Config func() *config.Config
	Store  *store.Store
	// AS acts as the bot and as citizens' ghosts.
	AS *mauas.AppService
	// Sender sends messages through the outbox.
	Sender *appservice.Sender
	// Capabilities say which room version new case rooms get.
	Capabilities *appservice.Capabilities
	// Rooms learns every case room, so events are routed without a query.
	Rooms       *bot.RoomIndex
	Departments Departments
	Log         zerolog.Logger
}

// Service is the cases capability.
type Service struct {
	opts Options
	feed feed
	// opening serialises OpenForCitizen per session, so two requests of
	// one session never set up the same case room twice.
	opening keyedMutex
}

// New checks the options.
func New(opts Options) (*Service, error) {
	if opts.Config == nil || opts.Store == nil || opts.AS == nil || opts.Sender == nil || opts.Capabilities == nil ||
		opts.Rooms == nil || opts.Departments == nil {
		return nil, fmt.Errorf("%w: Config, Store, AS, Sender, Capabilities, Rooms and Departments", ErrMissingOption)
	}
	return &Service{opts: opts}, nil
}

func (s *Service) config() *config.Config { return s.opts.Config() }

// LoadRooms tells the room index about every case room in the database.
// Call it before the first event is dispatched.
func (s *Service) LoadRooms(ctx context.Context) error {
	rooms, err := s.opts.Store.CaseRooms(ctx)
	if err != nil {
		return fmt.Errorf("failed to list case rooms: %w", err)
	}
	for room, caseID := range rooms {
		s.opts.Rooms.Set(room, bot.RoomInfo{Kind: bot.RoomCase, Key: caseID.String()})
	}
	return nil
}

// Register routes case rooms' events to the timeline and adds the case
// commands to the bot.
func (s *Service) Register(r *bot.Router) error {
	r.OnRoomEvent(bot.RoomCase, s.handleRoomEvent)
	return r.Register(s.Commands()...)
}
