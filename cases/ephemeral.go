package cases

import (
	"context"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/bot"
	"github.com/rathaus-de/rathaus/protocol"
)

// Typing notifications and read receipts are ephemeral. The spec pushes
// them to appservices that ask with receive_ephemeral (rathaus's
// registration does), and Synapse does: HandleEphemeral takes them from
// the transaction. NOTSPEC: Dendrite (v0.15.2) pushes none, so the bot also
// syncs for them (appservice.SyncLoop with SyncFilter), which Synapse in
// turn refuses to appservice users; the loop then stops. Either way only
// case rooms' typing and receipts of staff are passed on to the feed, and
// an update that comes both ways says the same thing twice.
//
// NOTSPEC: the same sync also asks for redactions. The spec pushes them to
// appservices like any room event, and Synapse does; Dendrite (v0.15.2)
// does not (element-hq/dendrite#3445). A redaction that comes both ways is
// recorded once (recordCaseChange is idempotent). On Dendrite a redaction
// that overtakes the redacted message's own push would find nothing to
// redact; messages are redacted long after they were sent, so this is left.

// redactionsPerSync bounds the redactions one sync returns per room; more
// between two syncs are rare (a purge redacts a whole room, but then the
// timeline is deleted anyway).
const redactionsPerSync = 50

// SyncFilter asks for typing, receipts and redactions only: what
// HandleSyncRoom passes on.
var SyncFilter = &mautrix.Filter{
	AccountData: &mautrix.FilterPart{Types: []event.Type{}, Limit: 0},
	Presence:    &mautrix.FilterPart{Types: []event.Type{}, Limit: 0},
	Room: &mautrix.RoomFilter{
		AccountData: &mautrix.FilterPart{Types: []event.Type{}, Limit: 0},
		State:       &mautrix.FilterPart{Types: []event.Type{}, Limit: 0},
		Timeline:    &mautrix.FilterPart{Types: []event.Type{event.EventRedaction}, Limit: redactionsPerSync},
		Ephemeral:   &mautrix.FilterPart{Types: []event.Type{event.EphemeralEventTyping, event.EphemeralEventReceipt}},
	},
}

// staffTypingTimeout is how long a typing notification counts if no update
// comes (the homeserver sends one when typing stops).
const staffTypingTimeout = 30 * time.Second

var (
	_ appservice.SyncHandler      = (*Service)(nil)
	_ appservice.EphemeralHandler = (*Service)(nil)
)

// HandleEphemeral implements appservice.EphemeralHandler: pushed typing
// notifications and receipts of case rooms go to the feed.
func (s *Service) HandleEphemeral(ctx context.Context, events []*event.Event) {
	for _, evt := range events {
		if info := s.opts.Rooms.Lookup(evt.RoomID); info.Kind == bot.RoomCase {
			s.passEphemeral(ctx, protocol.CaseID(info.Key), []*event.Event{evt}, false)
		}
	}
}

// HandleSyncRoom implements appservice.SyncHandler for SyncFilter: staff
// typing and read receipts in case rooms go to the feed, redactions to the
// timeline. Other rooms cost nothing.
func (s *Service) HandleSyncRoom(ctx context.Context, room id.RoomID, timeline, ephemeral []*event.Event, initial bool) {
	info := s.opts.Rooms.Lookup(room)
	if info.Kind != bot.RoomCase {
		return
	}
	s.passEphemeral(ctx, protocol.CaseID(info.Key), ephemeral, initial)
	for _, evt := range timeline {
		if evt.Type != event.EventRedaction {
			continue
		}
		if err := s.handleRoomEvent(ctx, evt, info); err != nil && ctx.Err() == nil {
			s.opts.Log.Warn().Err(err).Stringer("room_id", room).Stringer("event_id", evt.ID).Msg("Failed to record a redaction from sync")
		}
	}
}

// passEphemeral hands one case room's typing and receipts to the feed.
// The first sync's typing state is stale history and skipped.
func (s *Service) passEphemeral(ctx context.Context, caseID protocol.CaseID, events []*event.Event, initial bool) {
	cfg := s.config()
	for _, evt := range events {
		switch evt.Type {
		case event.EphemeralEventTyping:
			if initial {
				continue
			}
			typing := false
			for _, u := range evt.Content.AsTyping().UserIDs {
				if !cfg.IsOurUser(u) {
					typing = true
				}
			}
			until := time.Time{}
			if typing {
				until = time.Now().Add(staffTypingTimeout)
			}
			s.publish(Update{Case: caseID, Kind: StaffTyping, TypingUntil: until})
		case event.EphemeralEventReceipt:
			for evtID, receipts := range *evt.Content.AsReceipt() {
				for _, rt := range []event.ReceiptType{event.ReceiptTypeRead, event.ReceiptTypeReadPrivate} {
					for u := range receipts[rt] {
						if cfg.IsOurUser(u) {
							continue
						}
						if seq, err := s.opts.Store.CaseEventSeq(ctx, caseID, evtID); err == nil && seq > 0 {
							s.publish(Update{Case: caseID, Kind: StaffRead, ReadSeq: seq})
						}
					}
				}
			}
		}
	}
}
