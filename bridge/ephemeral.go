package bridge

import (
	"context"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Typing notifications and read receipts are ephemeral: homeservers push
// them to appservices only with MSC2409 (not in every homeserver, not in
// Dendrite), so the bot syncs for them with a filter that asks for nothing
// else. That is one long-poll connection for the whole deployment, and only
// case rooms' typing and receipts of staff are passed to the guest chat.
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

// ephemeralFilter asks for typing, receipts and redactions only.
var ephemeralFilter = &mautrix.Filter{
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

// ephemeralLoop passes staff typing and read receipts in case rooms to the
// guest chat until ctx ends.
func (b *Bridge) ephemeralLoop(ctx context.Context) {
	defer b.background.Done()
	cli := b.as.BotClient()
	log := b.log.With().Str("component", "ephemeral").Logger()
	filterID := ""
	since := ""
	wait := time.Second
	for ctx.Err() == nil {
		var err error
		if filterID == "" {
			var resp *mautrix.RespCreateFilter
			if resp, err = cli.CreateFilter(ctx, ephemeralFilter); err == nil {
				filterID = resp.FilterID
			}
		}
		var resp *mautrix.RespSync
		if err == nil {
			resp, err = cli.SyncRequest(ctx, 30000, since, filterID, false, event.PresenceOffline)
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Debug().Err(err).Msg("Sync for typing and receipts failed; retrying")
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(wait*2, time.Minute)
			continue
		}
		wait = time.Second
		first := since == ""
		since = resp.NextBatch
		for room, joined := range resp.Rooms.Join {
			b.passEphemeral(ctx, room, joined.Ephemeral.Events, first)
			b.passRedactions(ctx, room, joined.Timeline.Events)
		}
	}
}

// passEphemeral hands one room's typing and receipts to the guest chat.
// The first sync's typing state is stale history and skipped.
func (b *Bridge) passEphemeral(ctx context.Context, room id.RoomID, events []*event.Event, first bool) {
	if b.guest == nil || len(events) == 0 {
		return
	}
	c, err := b.store.GetCaseByRoom(ctx, room)
	if err != nil || c == nil {
		return
	}
	for _, evt := range events {
		_ = evt.Content.ParseRaw(evt.Type)
		switch evt.Type {
		case event.EphemeralEventTyping:
			if first {
				continue
			}
			typing := false
			for _, u := range evt.Content.AsTyping().UserIDs {
				if !b.cfg.IsOurUser(u) {
					typing = true
				}
			}
			until := time.Time{}
			if typing {
				until = time.Now().Add(staffTypingTimeout)
			}
			b.guest.StaffTyping(c.ID, until)
		case event.EphemeralEventReceipt:
			for evtID, receipts := range *evt.Content.AsReceipt() {
				for _, rt := range []event.ReceiptType{event.ReceiptTypeRead, event.ReceiptTypeReadPrivate} {
					for u := range receipts[rt] {
						if b.cfg.IsOurUser(u) {
							continue
						}
						if seq, err := b.store.CaseEventSeq(ctx, c.ID, evtID); err == nil && seq > 0 {
							b.guest.StaffRead(c.ID, seq)
						}
					}
				}
			}
		}
	}
}

// passRedactions records redactions in case rooms that the homeserver did
// not push (see the NOTSPEC above).
func (b *Bridge) passRedactions(ctx context.Context, room id.RoomID, events []*event.Event) {
	for _, evt := range events {
		if evt.Type != event.EventRedaction {
			continue
		}
		evt.RoomID = room // sync leaves it out
		evt.Type.Class = event.MessageEventType
		_ = evt.Content.ParseRaw(evt.Type)
		if err := b.recordCaseEvent(ctx, evt); err != nil && ctx.Err() == nil {
			b.log.Warn().Err(err).Stringer("room_id", room).Stringer("event_id", evt.ID).Msg("Failed to record a redaction from sync")
		}
	}
}
