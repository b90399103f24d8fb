// Package departments maps the authority and its departments onto Matrix:
// it computes from the config what the authority space, each department's
// space and staff room should look like, converges the rooms to it (on
// start, reload and `!rathaus sync`), archives departments that left the
// config, keeps the staff's status and says who is available. Its
// Directory is what every channel asks about departments: by id, by LeiKa
// key, and the authority itself.
package departments

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
	mauas "maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/bot"
	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// Store is the part of the database departments use. *store.Store
// implements it.
type Store interface {
	// ListManagedRooms, GetManagedRoom, PutManagedRoom and
	// SetManagedRoomArchived keep the mapping of departments to rooms.
	ListManagedRooms(ctx context.Context) ([]store.ManagedRoom, error)
	GetManagedRoom(ctx context.Context, kind store.RoomKind, key string) (*store.ManagedRoom, error)
	PutManagedRoom(ctx context.Context, kind store.RoomKind, key string, roomID id.RoomID) error
	SetManagedRoomArchived(ctx context.Context, kind store.RoomKind, key string, at time.Time) error
	// StaffStatuses and SetStaffStatus keep what staff say about
	// themselves.
	StaffStatuses(ctx context.Context) (map[id.UserID]store.StaffStatus, error)
	SetStaffStatus(ctx context.Context, user id.UserID, status store.StaffStatus) error
}

var _ Store = (*store.Store)(nil)

// Options configure New.
type Options struct {
	// Config returns the running config; it changes on reload.
	Config func() *config.Config
	Store  Store
	// AS acts as the bot.
	AS *mauas.AppService
	// Sender sends notices through the outbox.
	Sender *appservice.Sender
	// Capabilities say which room version new rooms get.
	Capabilities *appservice.Capabilities
	// Rooms learns the kind of every managed room.
	Rooms *bot.RoomIndex
	// Reload reads the config file again and reconciles; `!rathaus sync`
	// calls it. If nil, the command reconciles with the running config.
	Reload func(ctx context.Context) (Report, error)
	Log    zerolog.Logger
}

// Service is the departments capability.
type Service struct {
	opts        Options
	reconcileMu sync.Mutex
}

// New checks the options.
func New(opts Options) (*Service, error) {
	if opts.Config == nil || opts.Store == nil || opts.AS == nil || opts.Sender == nil || opts.Capabilities == nil || opts.Rooms == nil {
		return nil, fmt.Errorf("%w: Config, Store, AS, Sender, Capabilities and Rooms", ErrMissingOption)
	}
	return &Service{opts: opts}, nil
}

func (s *Service) config() *config.Config { return s.opts.Config() }

// LoadRooms tells the room index about every managed room in the
// database, archived ones included. Call it before the first event is
// dispatched.
func (s *Service) LoadRooms(ctx context.Context) error {
	managed, err := s.opts.Store.ListManagedRooms(ctx)
	if err != nil {
		return fmt.Errorf("failed to list managed rooms: %w", err)
	}
	for _, m := range managed {
		s.index(m.Kind, m.Key, m.RoomID)
	}
	return nil
}

// index records a managed room in the room index.
func (s *Service) index(kind store.RoomKind, key string, room id.RoomID) {
	s.opts.Rooms.Set(room, bot.RoomInfo{Kind: bot.RoomKind(kind), Key: key})
}

// StaffRoom returns a department's staff room, or "" if it has none yet.
func (s *Service) StaffRoom(ctx context.Context, dept protocol.DepartmentID) (id.RoomID, error) {
	return s.managedRoom(ctx, store.RoomStaff, dept)
}

// Space returns a department's space, or "" if it has none yet.
func (s *Service) Space(ctx context.Context, dept protocol.DepartmentID) (id.RoomID, error) {
	return s.managedRoom(ctx, store.RoomDepartmentSpace, dept)
}

func (s *Service) managedRoom(ctx context.Context, kind store.RoomKind, dept protocol.DepartmentID) (id.RoomID, error) {
	m, err := s.opts.Store.GetManagedRoom(ctx, kind, string(dept))
	if err != nil || m == nil {
		return "", err
	}
	return m.RoomID, nil
}

// IsStaff implements bot.Roles from the running config.
func (s *Service) IsStaff(u id.UserID) bool { return s.config().IsStaff(u) }

// IsAdmin implements bot.Roles from the running config.
func (s *Service) IsAdmin(u id.UserID) bool { return s.config().IsAdmin(u) }

var _ bot.Roles = (*Service)(nil)
