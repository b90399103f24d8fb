// Package appservice is the Matrix plumbing of rathaus: the HTTP API the
// homeserver pushes to (transactions, user and alias queries, ping, health),
// the durable inbox that stores every transaction before it is
// acknowledged, the dispatcher that hands stored events to a Handler (the
// bot's router) in order per room, and what every capability needs to act
// in Matrix: the outbox Sender with deterministic transaction ids, the
// filtered /sync loop, room state comparison, power levels and space
// links, media download, waiting for the homeserver. Sending goes through
// mautrix's appservice intents.
package appservice

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/store"
)

// Inbox is the durable store behind the transaction endpoint and the
// dispatcher. *store.Store implements it.
type Inbox interface {
	// SaveTransaction is called once per pushed transaction and must return
	// only after the transaction is committed.
	SaveTransaction(ctx context.Context, txnID string, events []store.InboxEvent) (store.SaveResult, error)
	// PendingRooms is called when the dispatcher scans the whole inbox:
	// rooms whose oldest pending event is due at now.
	PendingRooms(ctx context.Context, now time.Time) ([]id.RoomID, error)
	// NextDue is called after a scan to know when to look again.
	NextDue(ctx context.Context, now time.Time) (time.Time, error)
	// NextBatch is called by a room worker for the room's oldest events
	// (see store.Store.NextBatch).
	NextBatch(ctx context.Context, roomID id.RoomID, now time.Time, limit int) ([]store.InboxEvent, error)
	// StartBatch is called before a batch's handlers run.
	StartBatch(ctx context.Context, roomID id.RoomID, batch store.SeqRange) error
	// FinishBatch is called after them and returns how many events it
	// marked done.
	FinishBatch(ctx context.Context, out store.BatchOutcome) (int, error)
	// InboxStats is called for the backlog metrics and the back-pressure
	// bound.
	InboxStats(ctx context.Context) (store.InboxStats, error)
}

var _ Inbox = (*store.Store)(nil)

// QueryHandler answers the homeserver's questions about our namespaces.
type QueryHandler interface {
	// QueryUser is called for a user id inside our namespace. It returns
	// true once the user exists on the homeserver (registering it if
	// needed), false if rathaus has no such user.
	QueryUser(ctx context.Context, userID id.UserID) (bool, error)
	// QueryAlias is called for an alias inside our namespace. It returns
	// true once a room with that alias exists.
	QueryAlias(ctx context.Context, alias id.RoomAlias) (bool, error)
}

// ServerOptions configure NewServer. Fields without a default are required.
type ServerOptions struct {
	Log zerolog.Logger
	// HSToken is the token the homeserver presents.
	HSToken string
	Inbox   Inbox
	// Dispatcher is woken after each stored transaction.
	Dispatcher *Dispatcher
	// Queries answers user and alias queries; IsOurUser and IsOurAlias say
	// which ids are in our namespaces at all.
	Queries    QueryHandler
	IsOurUser  func(id.UserID) bool
	IsOurAlias func(id.RoomAlias) bool
	// Ephemeral, if set, receives the pushed typing notifications and
	// receipts (see EphemeralHandler).
	Ephemeral EphemeralHandler
	// MaxTransactionBytes limits a transaction body; larger ones get 413.
	MaxTransactionBytes int64
	// MaxPendingEvents bounds the inbox: while more events wait, new
	// transactions are refused with a retryable error (503), and the
	// homeserver backs off and sends them again. 0: no bound.
	MaxPendingEvents int64
	Metrics          *Metrics
}

// Server serves the application service API.
type Server struct {
	opts  ServerOptions
	log   zerolog.Logger
	mux   *http.ServeMux
	ready atomic.Bool
}

// NewServer builds the HTTP handler for the homeserver-facing API.
func NewServer(opts ServerOptions) (*Server, error) {
	switch {
	case opts.HSToken == "":
		return nil, fmt.Errorf("%w: HSToken", ErrMissingOption)
	case opts.Inbox == nil:
		return nil, fmt.Errorf("%w: Inbox", ErrMissingOption)
	case opts.Dispatcher == nil:
		return nil, fmt.Errorf("%w: Dispatcher", ErrMissingOption)
	case opts.Queries == nil || opts.IsOurUser == nil || opts.IsOurAlias == nil:
		return nil, fmt.Errorf("%w: Queries, IsOurUser and IsOurAlias", ErrMissingOption)
	case opts.MaxTransactionBytes <= 0:
		return nil, fmt.Errorf("%w: MaxTransactionBytes", ErrMissingOption)
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	s := &Server{opts: opts, log: opts.Log, mux: http.NewServeMux()}
	s.mux.HandleFunc("PUT /_matrix/app/v1/transactions/{txnID}", s.putTransaction)
	s.mux.HandleFunc("GET /_matrix/app/v1/users/{userID}", s.getUser)
	s.mux.HandleFunc("GET /_matrix/app/v1/rooms/{alias}", s.getRoom)
	s.mux.HandleFunc("POST /_matrix/app/v1/ping", s.postPing)
	s.mux.HandleFunc("GET /_matrix/mau/live", s.getLive)
	s.mux.HandleFunc("GET /_matrix/mau/ready", s.getReady)
	// The spec wants M_UNRECOGNIZED for unknown endpoints (404) and for
	// known ones called with the wrong method (405).
	for _, path := range []string{"/_matrix/app/v1/transactions/{txnID}", "/_matrix/app/v1/users/{userID}",
		"/_matrix/app/v1/rooms/{alias}", "/_matrix/app/v1/ping", "/_matrix/mau/live", "/_matrix/mau/ready"} {
		s.mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
			mautrix.MUnrecognized.WithMessage("Method not allowed on this endpoint").WithStatus(http.StatusMethodNotAllowed).Write(w)
		})
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		mautrix.MUnrecognized.WithMessage("Unrecognized endpoint").Write(w)
	})
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// SetReady flips the readiness probe; rathaus is ready once it has
// registered its bot and started the dispatcher.
func (s *Server) SetReady(ready bool) {
	s.ready.Store(ready)
}

func (s *Server) getLive(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (s *Server) getReady(w http.ResponseWriter, _ *http.Request) {
	if !s.ready.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]bool{"ok": false})
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}
