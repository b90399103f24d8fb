package store

import (
	"context"
	"fmt"
	"time"
)

const (
	bindContextJTIQuery = `
		INSERT INTO ozg_context_jti (service_id, jti, binding, expires_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (service_id, jti) DO NOTHING`
	contextJTIBindingQuery = `SELECT binding FROM ozg_context_jti WHERE service_id = $1 AND jti = $2`
	pruneContextJTIQuery   = `DELETE FROM ozg_context_jti WHERE expires_at < $1`
)

// BindContextJTI records the first use of an OZG hand-over context's jti
// and binds it to binding (ozg.JTIStore). It reports whether the jti is
// bound to binding now: true on the first use and on every later use with
// the same binding, false if another binding used it first. The primary
// key makes the first use atomic across goroutines and processes.
func (s *Store) BindContextJTI(ctx context.Context, serviceID, jti, binding string, expiresAt time.Time) (bool, error) {
	if _, err := s.DB.Exec(ctx, bindContextJTIQuery, serviceID, jti, binding, expiresAt.UnixMilli()); err != nil {
		return false, fmt.Errorf("failed to record the context's jti: %w", err)
	}
	var bound string
	if err := s.DB.QueryRow(ctx, contextJTIBindingQuery, serviceID, jti).Scan(&bound); err != nil {
		return false, fmt.Errorf("failed to read the context's jti: %w", err)
	}
	return bound == binding, nil
}

// PruneContextJTIs forgets jtis of contexts that expired before `before`.
func (s *Store) PruneContextJTIs(ctx context.Context, before time.Time) error {
	if _, err := s.DB.Exec(ctx, pruneContextJTIQuery, before.UnixMilli()); err != nil {
		return fmt.Errorf("failed to prune used contexts: %w", err)
	}
	return nil
}

// CountContextJTIs is how many context jtis are recorded; for tests and
// diagnostics.
func (s *Store) CountContextJTIs(ctx context.Context) (int, error) {
	var n int
	if err := s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM ozg_context_jti`).Scan(&n); err != nil {
		return 0, fmt.Errorf("failed to count used contexts: %w", err)
	}
	return n, nil
}
