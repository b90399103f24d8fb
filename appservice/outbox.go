package appservice

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	mauas "maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// recoveryScanLimit is how many of the sender's latest events of the same
// type are searched for an unconfirmed send.
const recoveryScanLimit = 100

// Outbox records Matrix sends. *store.Store implements it.
type Outbox interface {
	// GetOutbox is called before every send.
	GetOutbox(ctx context.Context, txnID string) (*store.OutboxEntry, error)
	// AddOutbox is called before the request goes out.
	AddOutbox(ctx context.Context, e store.OutboxEntry) error
	// MarkOutboxSent is called with the event id the homeserver returned.
	MarkOutboxSent(ctx context.Context, txnID string, eventID id.EventID) error
}

var _ Outbox = (*store.Store)(nil)

// Sender sends Matrix events exactly once per transaction id.
//
// The Matrix spec makes PUT /send/{txnId} idempotent, so resending with the
// same id would be enough. NOTSPEC: Dendrite (v0.15.2) remembers a
// transaction id only after the request completed normally; a request
// whose client died mid-way can create the event without being
// remembered, and the retry creates a second one. Synapse (1.163) keeps an
// appservice's transaction ids (sends without a device) in memory only: a
// Synapse restart between a send and its retry forgets them, and the
// retry creates a second event (cmd/rathaus
// TestSynapseForgetsAppserviceTxnIDsOnRestart). So a send that was
// recorded but never confirmed is first looked for in the room (by the
// protocol.TxnIDKey in its content) and only sent again if it is not there.
type Sender struct {
	Outbox Outbox
}

// Send sends content as the intent's user into room, with the given
// deterministic transaction id, and returns the event id. Calling it again
// with the same txnID returns the first event's id without sending.
func (s *Sender) Send(ctx context.Context, intent *mauas.IntentAPI, room id.RoomID, evtType event.Type, content any, txnID string) (id.EventID, error) {
	entry, err := s.Outbox.GetOutbox(ctx, txnID)
	if err != nil {
		return "", err
	}
	if entry != nil && (entry.Sender != intent.UserID || entry.RoomID != room) {
		return "", fmt.Errorf("%w: transaction id %s was used by %s in %s", ErrTxnIDReused, txnID, entry.Sender, entry.RoomID)
	}
	if entry != nil && entry.EventID != "" {
		return entry.EventID, nil
	}
	if entry != nil {
		// Recorded but unconfirmed: a previous run may have sent it.
		if found, err := findSent(ctx, intent, room, evtType, txnID); err != nil {
			return "", fmt.Errorf("failed to look for an unconfirmed send: %w", err)
		} else if found != "" {
			zerolog.Ctx(ctx).Info().Str("matrix_txn_id", txnID).Stringer("sent_event_id", found).
				Msg("Found an unconfirmed send in the room; not sending it again")
			return found, s.Outbox.MarkOutboxSent(ctx, txnID, found)
		}
	} else if err = s.Outbox.AddOutbox(ctx, store.OutboxEntry{TxnID: txnID, RoomID: room, Sender: intent.UserID, Type: evtType.Type}); err != nil {
		return "", err
	}
	wrapped := &event.Content{Parsed: content, Raw: map[string]any{protocol.TxnIDKey: txnID}}
	resp, err := intent.SendMessageEvent(ctx, room, evtType, wrapped, mautrix.ReqSendEvent{TransactionID: txnID})
	if err != nil {
		return "", err
	}
	return resp.EventID, s.Outbox.MarkOutboxSent(ctx, txnID, resp.EventID)
}

// findSent searches the sender's latest events in room for one carrying
// txnID.
func findSent(ctx context.Context, intent *mauas.IntentAPI, room id.RoomID, evtType event.Type, txnID string) (id.EventID, error) {
	filter := &mautrix.FilterPart{Senders: []id.UserID{intent.UserID}, Types: []event.Type{evtType}}
	resp, err := intent.Messages(ctx, room, "", "", mautrix.DirectionBackward, filter, recoveryScanLimit)
	if err != nil {
		return "", err
	}
	for _, evt := range resp.Chunk {
		if evt.Sender != intent.UserID {
			continue
		}
		var marker map[string]any
		if evt.Content.VeryRaw != nil {
			_ = json.Unmarshal(evt.Content.VeryRaw, &marker)
		}
		if found, _ := marker[protocol.TxnIDKey].(string); found == txnID {
			return evt.ID, nil
		}
	}
	return "", nil
}
