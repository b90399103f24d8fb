package appservice

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// An application service gets room events pushed, but not everything:
// typing notifications and read receipts reach it only with MSC2409, which
// not every homeserver implements. SyncLoop long-polls /sync as the bot
// with a filter that asks for only what the pushes lack. That is one
// connection for the whole deployment; the events it returns are handed to
// a SyncHandler.

// SyncHandler receives what a filtered /sync returns.
type SyncHandler interface {
	// HandleSyncRoom is called once per joined room that has events in a
	// sync response, in no particular order of rooms, never concurrently.
	// Timeline events carry their room id (sync leaves it out); ephemeral
	// events are parsed. initial is true for the first response after a
	// start, whose ephemeral events are history rather than news.
	HandleSyncRoom(ctx context.Context, room id.RoomID, timeline, ephemeral []*event.Event, initial bool)
}

// SyncOptions configure NewSyncLoop.
type SyncOptions struct {
	// Client syncs; normally the bot's client.
	Client *mautrix.Client
	// Filter says what the sync returns; keep it small.
	Filter  *mautrix.Filter
	Handler SyncHandler
	Log     zerolog.Logger
	// Timeout is the long-poll timeout (default 30 s).
	Timeout time.Duration
}

// SyncLoop is a filtered /sync long-poll.
type SyncLoop struct {
	opts SyncOptions
}

// NewSyncLoop checks the options.
func NewSyncLoop(opts SyncOptions) (*SyncLoop, error) {
	if opts.Client == nil || opts.Filter == nil || opts.Handler == nil {
		return nil, fmt.Errorf("%w: Client, Filter and Handler", ErrMissingOption)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	return &SyncLoop{opts: opts}, nil
}

// refusalsBeforeGivingUp is how many answers in a row that refuse the
// sync (see syncRefused) end the loop.
const refusalsBeforeGivingUp = 3

// Run syncs until ctx ends. Failures are retried with backoff (1 s
// doubling to 1 min); they are logged at debug level because the
// homeserver being away is already visible elsewhere. A homeserver that
// answers but refuses the sync outright, three times in a row (Synapse
// does not let appservice users sync), ends the loop: what it would bring,
// that homeserver pushes.
func (l *SyncLoop) Run(ctx context.Context) {
	cli, log := l.opts.Client, l.opts.Log
	filterID, since := "", ""
	wait := time.Second
	refusals := 0
	for ctx.Err() == nil {
		var err error
		if filterID == "" {
			var resp *mautrix.RespCreateFilter
			if resp, err = cli.CreateFilter(ctx, l.opts.Filter); err == nil {
				filterID = resp.FilterID
			}
		}
		var resp *mautrix.RespSync
		if err == nil {
			// The long poll is cut short at every stop; mautrix would log
			// that as a warning. Failures are logged below, once.
			quiet := zerolog.Ctx(ctx).Level(zerolog.ErrorLevel).WithContext(ctx)
			resp, err = cli.SyncRequest(quiet, int(l.opts.Timeout.Milliseconds()), since, filterID, false, event.PresenceOffline)
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if syncRefused(err) {
				if refusals++; refusals >= refusalsBeforeGivingUp {
					log.Info().Err(err).Msg("Homeserver does not let the bot sync; relying on what it pushes")
					return
				}
			} else {
				refusals = 0
			}
			log.Debug().Err(err).Msg("Filtered sync failed; retrying")
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(wait*2, time.Minute)
			continue
		}
		wait, refusals = time.Second, 0
		initial := since == ""
		since = resp.NextBatch
		for room, joined := range resp.Rooms.Join {
			for _, evt := range joined.Timeline.Events {
				evt.RoomID = room
				evt.Type.Class = event.MessageEventType
				if evt.StateKey != nil {
					evt.Type.Class = event.StateEventType
				}
				_ = evt.Content.ParseRaw(evt.Type)
			}
			for _, evt := range joined.Ephemeral.Events {
				evt.RoomID = room
				_ = evt.Content.ParseRaw(evt.Type)
			}
			if len(joined.Timeline.Events) > 0 || len(joined.Ephemeral.Events) > 0 {
				l.opts.Handler.HandleSyncRoom(ctx, room, joined.Timeline.Events, joined.Ephemeral.Events, initial)
			}
		}
	}
}

// syncRefused reports whether the homeserver answered a sync but will not
// serve it: not implemented for this user (Synapse answers 500 to
// appservice users) or unknown.
func syncRefused(err error) bool {
	var httpErr mautrix.HTTPError
	if !errors.As(err, &httpErr) || httpErr.Response == nil {
		return false
	}
	switch httpErr.Response.StatusCode {
	case http.StatusInternalServerError, http.StatusNotImplemented, http.StatusNotFound, http.StatusMethodNotAllowed:
		return true
	}
	return false
}
