package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"
)

const (
	expireHelpRequestQuery = `
		DELETE FROM ozg_help_request WHERE service_id = $1 AND idempotency_key = $2 AND created_at < $3`
	insertHelpRequestQuery = `
		INSERT INTO ozg_help_request (service_id, idempotency_key, request_id, fingerprint, context, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (service_id, idempotency_key) DO NOTHING`
	getHelpRequestQuery = `
		SELECT request_id, fingerprint, context, created_at, expires_at FROM ozg_help_request
		WHERE service_id = $1 AND idempotency_key = $2`
	pruneHelpRequestQuery = `DELETE FROM ozg_help_request WHERE created_at < $1`
	insertIntakeKeyQuery  = `
		INSERT INTO ozg_intake_key (id, secret, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`
	getIntakeKeyQuery = `SELECT secret FROM ozg_intake_key WHERE id = $1`
)

// HelpRequest is a help request of an online service's backend, by its
// idempotency key (ozg.HelpRequestStore).
type HelpRequest struct {
	ServiceID      string
	IdempotencyKey string
	RequestID      string
	// Fingerprint is the SHA-256 of the request's normalised fields.
	Fingerprint string
	// Context is the signed context of the citizen's link.
	Context   string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CreateHelpRequest stores hr unless the service already made a request
// with the same idempotency key at or after notBefore (the start of the
// idempotency window; an older one is replaced). It returns the request
// that holds the key now, hr or the earlier one, and whether it is hr.
// The primary key decides between two requests at the same moment, in
// one process or several.
func (s *Store) CreateHelpRequest(ctx context.Context, hr HelpRequest, notBefore time.Time) (*HelpRequest, bool, error) {
	var stored *HelpRequest
	created := false
	err := s.DB.DoTxn(ctx, nil, func(ctx context.Context) error {
		if _, err := s.DB.Exec(ctx, expireHelpRequestQuery, hr.ServiceID, hr.IdempotencyKey, notBefore.UnixMilli()); err != nil {
			return fmt.Errorf("failed to forget an old help request: %w", err)
		}
		r, err := s.DB.Exec(ctx, insertHelpRequestQuery, hr.ServiceID, hr.IdempotencyKey, hr.RequestID, hr.Fingerprint, hr.Context,
			hr.CreatedAt.UnixMilli(), hr.ExpiresAt.UnixMilli())
		if err != nil {
			return fmt.Errorf("failed to insert the help request: %w", err)
		}
		n, err := r.RowsAffected()
		if err != nil {
			return fmt.Errorf("failed to insert the help request: %w", err)
		}
		created = n == 1
		got := HelpRequest{ServiceID: hr.ServiceID, IdempotencyKey: hr.IdempotencyKey}
		var createdAt, expiresAt int64
		if err = s.DB.QueryRow(ctx, getHelpRequestQuery, hr.ServiceID, hr.IdempotencyKey).
			Scan(&got.RequestID, &got.Fingerprint, &got.Context, &createdAt, &expiresAt); err != nil {
			return fmt.Errorf("failed to read the help request: %w", err)
		}
		got.CreatedAt, got.ExpiresAt = time.UnixMilli(createdAt), time.UnixMilli(expiresAt)
		stored = &got
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return stored, created, nil
}

// PruneHelpRequests forgets help requests made before `before` (their
// idempotency window has passed; their links expired long ago).
func (s *Store) PruneHelpRequests(ctx context.Context, before time.Time) error {
	if _, err := s.DB.Exec(ctx, pruneHelpRequestQuery, before.UnixMilli()); err != nil {
		return fmt.Errorf("failed to prune help requests: %w", err)
	}
	return nil
}

// CountHelpRequests is how many help requests are stored; for tests and
// diagnostics.
func (s *Store) CountHelpRequests(ctx context.Context) (int, error) {
	var n int
	if err := s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM ozg_help_request`).Scan(&n); err != nil {
		return 0, fmt.Errorf("failed to count help requests: %w", err)
	}
	return n, nil
}

// intakeKeyID names the one intake signing key (the row's id leaves room
// for a rotation later).
const intakeKeyID = "hs256"

// IntakeKey returns rathaus's key for signing the contexts of the links
// it issues (ozg.HelpRequestStore). The first call of all stores
// candidate; every later call, in any process on the database, returns
// that stored key and ignores its candidate.
func (s *Store) IntakeKey(ctx context.Context, candidate []byte) ([]byte, error) {
	if _, err := s.DB.Exec(ctx, insertIntakeKeyQuery, intakeKeyID, base64.StdEncoding.EncodeToString(candidate), time.Now().UnixMilli()); err != nil {
		return nil, fmt.Errorf("failed to store the intake key: %w", err)
	}
	var enc string
	if err := s.DB.QueryRow(ctx, getIntakeKeyQuery, intakeKeyID).Scan(&enc); err != nil {
		return nil, fmt.Errorf("failed to read the intake key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("failed to decode the intake key: %w", err)
	}
	return key, nil
}
