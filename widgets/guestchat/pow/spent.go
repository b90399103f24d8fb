package pow

import (
	"context"
	"sync"
	"time"
)

// SpentStore remembers which challenges have been redeemed, so each
// solution is accepted once.
type SpentStore interface {
	// MarkSpent is called by Verify after every other check passed, once
	// per verification attempt. It records id as spent and reports whether
	// this call was the first to do so. It must be atomic: when several
	// callers race with the same id, exactly one gets firstUse=true (a
	// database does this with INSERT … ON CONFLICT DO NOTHING and the
	// affected-row count). The store may forget id after expiresAt: Verify
	// refuses expired challenges before calling it. An error means the
	// verdict is unknown; Verify passes it on and rejects the attempt.
	MarkSpent(ctx context.Context, id string, expiresAt time.Time) (firstUse bool, err error)
}

// memorySweepInterval is how often MemorySpentStore drops expired ids.
const memorySweepInterval = time.Minute

// MemorySpentStore is a SpentStore in process memory, for tests and a
// single rathaus process. Its size is bounded by the number of challenges
// solved within one TTL; expired ids are dropped at most once a minute,
// during MarkSpent. The zero value is not usable; call NewMemorySpentStore.
type MemorySpentStore struct {
	now func() time.Time

	mu        sync.Mutex
	spent     map[string]time.Time // id → expiresAt
	nextSweep time.Time
}

var _ SpentStore = (*MemorySpentStore)(nil)

// NewMemorySpentStore returns an empty store. now returns the current time;
// nil means time.Now. Use the same clock as the Issuer.
func NewMemorySpentStore(now func() time.Time) *MemorySpentStore {
	if now == nil {
		now = time.Now
	}
	return &MemorySpentStore{now: now, spent: make(map[string]time.Time)}
}

// MarkSpent implements SpentStore. It never fails.
func (s *MemorySpentStore) MarkSpent(_ context.Context, id string, expiresAt time.Time) (bool, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !now.Before(s.nextSweep) {
		for k, exp := range s.spent {
			if !now.Before(exp) {
				delete(s.spent, k)
			}
		}
		s.nextSweep = now.Add(memorySweepInterval)
	}
	if _, ok := s.spent[id]; ok {
		return false, nil
	}
	s.spent[id] = expiresAt
	return true, nil
}

// Len returns the number of ids currently remembered.
func (s *MemorySpentStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.spent)
}
