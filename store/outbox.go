package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"maunium.net/go/mautrix/id"
)

// OutboxEntry is one Matrix send rathaus intends to make or has made.
type OutboxEntry struct {
	TxnID   string
	RoomID  id.RoomID
	Sender  id.UserID
	Type    string
	EventID id.EventID // empty until the send was confirmed
}

const (
	getOutboxQuery = `
		SELECT txn_id, room_id, sender, event_type, COALESCE(event_id, '') FROM outbox WHERE txn_id = $1`
	addOutboxQuery = `
		INSERT INTO outbox (txn_id, room_id, sender, event_type, created_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (txn_id) DO NOTHING`
	markOutboxSentQuery = `
		UPDATE outbox SET event_id = $2, sent_at = $3 WHERE txn_id = $1`
	pruneOutboxQuery = `
		DELETE FROM outbox WHERE created_at < $1`
)

// GetOutbox returns the entry for a transaction id, or nil.
func (s *Store) GetOutbox(ctx context.Context, txnID string) (*OutboxEntry, error) {
	var e OutboxEntry
	err := s.DB.QueryRow(ctx, getOutboxQuery, txnID).Scan(&e.TxnID, &e.RoomID, &e.Sender, &e.Type, &e.EventID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("failed to query outbox: %w", err)
	}
	return &e, nil
}

// AddOutbox records an intended send. Adding an existing id is a no-op.
func (s *Store) AddOutbox(ctx context.Context, e OutboxEntry) error {
	_, err := s.DB.Exec(ctx, addOutboxQuery, e.TxnID, e.RoomID, e.Sender, e.Type, time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("failed to add outbox entry: %w", err)
	}
	return nil
}

// MarkOutboxSent records the event id the homeserver returned.
func (s *Store) MarkOutboxSent(ctx context.Context, txnID string, eventID id.EventID) error {
	_, err := s.DB.Exec(ctx, markOutboxSentQuery, txnID, eventID, time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("failed to mark outbox entry sent: %w", err)
	}
	return nil
}

// PruneOutbox forgets sends recorded before `before`.
func (s *Store) PruneOutbox(ctx context.Context, before time.Time) error {
	if _, err := s.DB.Exec(ctx, pruneOutboxQuery, before.UnixMilli()); err != nil {
		return fmt.Errorf("failed to prune outbox: %w", err)
	}
	return nil
}
