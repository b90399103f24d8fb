package store

import (
	"context"
	"fmt"
	"time"
)

const (
	markPowSpentQuery = `
		INSERT INTO pow_spent (challenge_id, expires_at) VALUES ($1, $2) ON CONFLICT (challenge_id) DO NOTHING`
	prunePowSpentQuery = `DELETE FROM pow_spent WHERE expires_at < $1`
)

// MarkSpent records a proof-of-work challenge as used and reports whether
// this call was the first (pow.SpentStore). The row is what makes it
// atomic across goroutines and processes.
func (s *Store) MarkSpent(ctx context.Context, challengeID string, expiresAt time.Time) (bool, error) {
	r, err := s.DB.Exec(ctx, markPowSpentQuery, challengeID, expiresAt.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("failed to record spent challenge: %w", err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("failed to record spent challenge: %w", err)
	}
	return n == 1, nil
}

// PrunePowSpent forgets challenges that expired before `before`; they are
// refused for their age anyway.
func (s *Store) PrunePowSpent(ctx context.Context, before time.Time) error {
	if _, err := s.DB.Exec(ctx, prunePowSpentQuery, before.UnixMilli()); err != nil {
		return fmt.Errorf("failed to prune spent challenges: %w", err)
	}
	return nil
}
