package appservice

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/store"
)

// txnBody is the part of a transaction rathaus reads: the room events
// (PDUs), which are stored, and the ephemeral events (typing, receipts)
// the registration asks for with receive_ephemeral, which are handed on
// at once and not stored: they only say what is true now.
type txnBody struct {
	// Events is required by the spec; a pointer tells a missing list from
	// an empty one.
	Events    *[]json.RawMessage `json:"events"`
	Ephemeral []*event.Event     `json:"ephemeral"`
	// UnstableEphemeral is MSC2409's name, sent by homeservers that know
	// the unstable registration key only.
	UnstableEphemeral []*event.Event `json:"de.sorunome.msc2409.ephemeral"`
}

// EphemeralHandler receives the ephemeral events of pushed transactions.
type EphemeralHandler interface {
	// HandleEphemeral is called after the transaction's room events are
	// stored, before the homeserver gets its 200, with events whose
	// content is parsed and whose room id is set. It must be quick; what
	// it gets is not stored and not delivered again.
	HandleEphemeral(ctx context.Context, events []*event.Event)
}

// eventKeys are the fields the inbox indexes.
type eventKeys struct {
	ID     id.EventID `json:"event_id"`
	RoomID id.RoomID  `json:"room_id"`
	Type   string     `json:"type"`
}

// backPressureRetry is the pause suggested to the homeserver when the inbox
// is full.
const backPressureRetry = 5 * time.Second

// putTransaction implements PUT /_matrix/app/v1/transactions/{txnId}. The
// 200 is sent only after the transaction is committed to the database: a
// crash before that makes the homeserver send it again, a crash after it
// loses nothing.
func (s *Server) putTransaction(w http.ResponseWriter, r *http.Request) {
	txnID := r.PathValue("txnID")
	log := s.log.With().Str("txn_id", txnID).Logger()
	if !checkHSToken(w, r, s.opts.HSToken) {
		s.opts.Metrics.TransactionsReceived.WithLabelValues("rejected").Inc()
		log.Warn().Str("remote_addr", r.RemoteAddr).Msg("Rejected transaction with missing or invalid homeserver token")
		return
	}
	if limit := s.opts.MaxPendingEvents; limit > 0 && s.opts.Dispatcher.Pending() >= limit {
		// A retryable error, never a 4xx: Synapse and Dendrite retry every
		// failed transaction with backoff and never skip one, so a
		// permanent refusal would wedge delivery.
		s.opts.Metrics.TransactionsReceived.WithLabelValues("deferred").Inc()
		log.Warn().Int64("pending", s.opts.Dispatcher.Pending()).Int64("limit", limit).
			Msg("Inbox full (appservice.max_pending_events): asking the homeserver to send this transaction again later")
		w.Header().Set("Retry-After", strconv.Itoa(int(backPressureRetry.Seconds())))
		mautrix.MLimitExceeded.WithMessage("The inbox holds %d unhandled events; try again later", limit).
			WithStatus(http.StatusServiceUnavailable).
			WithExtraData(map[string]any{"retry_after_ms": backPressureRetry.Milliseconds()}).Write(w)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxTransactionBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		s.opts.Metrics.TransactionsReceived.WithLabelValues("rejected").Inc()
		log.Error().Int64("limit_bytes", tooLarge.Limit).Msg("Rejected transaction larger than appservice.max_transaction_bytes")
		mautrix.MTooLarge.WithMessage("Transaction body exceeds %d bytes", tooLarge.Limit).Write(w)
		return
	} else if err != nil {
		mautrix.MUnknown.WithMessage("Failed to read request body").Write(w)
		return
	}
	var txn txnBody
	var syntax *json.SyntaxError
	if err = json.Unmarshal(body, &txn); errors.As(err, &syntax) {
		s.opts.Metrics.TransactionsReceived.WithLabelValues("rejected").Inc()
		mautrix.MNotJSON.WithMessage("Request body is not JSON").Write(w)
		return
	} else if err != nil || txn.Events == nil {
		s.opts.Metrics.TransactionsReceived.WithLabelValues("rejected").Inc()
		mautrix.MBadJSON.WithMessage("Transaction must be an object with an events list").Write(w)
		return
	}
	events := make([]store.InboxEvent, 0, len(*txn.Events))
	rooms := make([]id.RoomID, 0, 1)
	for _, raw := range *txn.Events {
		var keys eventKeys
		if err = json.Unmarshal(raw, &keys); err != nil || keys.ID == "" || keys.RoomID == "" || keys.Type == "" {
			// Such an event cannot be stored or de-duplicated. Rejecting the
			// whole transaction would make the homeserver retry it for ever
			// and stop all delivery, so only this event is dropped.
			log.Warn().Msg("Dropping malformed event without a valid event_id, room_id or type")
			continue
		}
		evt := store.InboxEvent{EventID: keys.ID, RoomID: keys.RoomID, Type: keys.Type, Payload: raw}
		if sel := s.opts.Dispatcher.ingestSelector(); sel != nil && !sel.Wants(keys.RoomID, keys.Type, raw) {
			// Nothing would handle it: stored done (for de-duplication),
			// without its payload, and never dispatched.
			evt.State, evt.Payload = store.InboxDone, nil
		} else if !slices.Contains(rooms, keys.RoomID) {
			rooms = append(rooms, keys.RoomID)
		}
		events = append(events, evt)
	}
	res, err := s.opts.Inbox.SaveTransaction(r.Context(), txnID, events)
	if err != nil {
		log.Error().Err(err).Msg("Failed to store transaction")
		mautrix.MUnknown.WithMessage("Failed to store transaction").Write(w)
		return
	}
	switch {
	case res.DuplicateTxn && res.Stored == 0:
		s.opts.Metrics.TransactionsReceived.WithLabelValues("duplicate").Inc()
		log.Debug().Msg("Ignoring redelivered transaction")
	case res.DuplicateTxn:
		// Synapse on SQLite starts its transaction ids at 1 again after a
		// restart (synapse#14556): a known id with new events is a new
		// batch, stored by event id like any other.
		s.opts.Metrics.TransactionsReceived.WithLabelValues("stored").Inc()
		log.Info().Int("events", len(events)).Int("new_events", res.Stored).Msg("Stored new events under a transaction id seen before")
	default:
		s.opts.Metrics.TransactionsReceived.WithLabelValues("stored").Inc()
		log.Debug().Int("events", len(events)).Int("new_events", res.Stored).Msg("Stored transaction")
	}
	if res.Stored > 0 {
		s.opts.Metrics.EventsStored.Add(float64(res.Stored))
		skipped := float64(res.Stored - res.Pending)
		s.opts.Metrics.EventsSkipped.Add(skipped)
		s.opts.Metrics.EventsProcessed.Add(skipped)
	}
	if res.Pending > 0 {
		s.opts.Dispatcher.Stored(res.Pending, rooms...)
	}
	if ephemeral := append(txn.Ephemeral, txn.UnstableEphemeral...); len(ephemeral) > 0 && s.opts.Ephemeral != nil {
		parsed := ephemeral[:0]
		for _, evt := range ephemeral {
			if evt == nil || evt.RoomID == "" {
				continue
			}
			evt.Type.Class = event.EphemeralEventType
			if err := evt.Content.ParseRaw(evt.Type); err != nil && !errors.Is(err, event.ErrContentAlreadyParsed) {
				continue
			}
			parsed = append(parsed, evt)
		}
		s.opts.Ephemeral.HandleEphemeral(log.WithContext(r.Context()), parsed)
	}
	writeJSON(w, http.StatusOK, struct{}{})
}
