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

// ephemeralFilter asks for typing and receipts only.
var ephemeralFilter = &mautrix.Filter{
	AccountData: &mautrix.FilterPart{Types: []event.Type{}, Limit: 0},
	Presence:    &mautrix.FilterPart{Types: []event.Type{}, Limit: 0},
	Room: &mautrix.RoomFilter{
		AccountData: &mautrix.FilterPart{Types: []event.Type{}, Limit: 0},
		State:       &mautrix.FilterPart{Types: []event.Type{}, Limit: 0},
		Timeline:    &mautrix.FilterPart{Types: []event.Type{}, Limit: 0},
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
