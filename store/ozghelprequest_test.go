package store_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/store"
)

// An idempotency key counts once per service within its window: the
// second request gets the first one's row back; another service, or the
// same key after the window, makes a new request.
func TestHelpRequestIdempotency(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		now := time.UnixMilli(time.Now().UnixMilli())
		window := now.Add(-24 * time.Hour)
		first := store.HelpRequest{ServiceID: "bauantrag", IdempotencyKey: "k1", RequestID: "hr_1", Fingerprint: "f1",
			Context: "ctx1", CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
		got, created, err := s.CreateHelpRequest(ctx, first, window)
		require.NoError(t, err)
		assert.True(t, created)
		assert.Equal(t, first, *got)

		retry := first
		retry.RequestID, retry.Fingerprint, retry.Context, retry.CreatedAt = "hr_2", "f2", "ctx2", now.Add(time.Second)
		got, created, err = s.CreateHelpRequest(ctx, retry, window)
		require.NoError(t, err)
		assert.False(t, created)
		assert.Equal(t, first, *got, "the first request holds the key")

		other := retry
		other.ServiceID = "parkausweis"
		got, created, err = s.CreateHelpRequest(ctx, other, window)
		require.NoError(t, err)
		assert.True(t, created, "keys are per service")
		assert.Equal(t, "hr_2", got.RequestID)

		// After the window the key is free again, pruned or not.
		later := first
		later.RequestID, later.CreatedAt = "hr_3", now.Add(25*time.Hour)
		got, created, err = s.CreateHelpRequest(ctx, later, now.Add(time.Hour))
		require.NoError(t, err)
		assert.True(t, created)
		assert.Equal(t, "hr_3", got.RequestID)

		n, err := s.CountHelpRequests(ctx)
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		require.NoError(t, s.PruneHelpRequests(ctx, now.Add(time.Hour)))
		n, err = s.CountHelpRequests(ctx)
		require.NoError(t, err)
		assert.Equal(t, 1, n, "the parkausweis request is pruned")
	})
}

// The intake key is made once and then always the same, across a
// reopening of the database.
func TestIntakeKey(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		a, b := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
		key, err := s.IntakeKey(ctx, a)
		require.NoError(t, err)
		assert.Equal(t, a, key)
		key, err = s.IntakeKey(ctx, b)
		require.NoError(t, err)
		assert.Equal(t, a, key, "the candidate of a later call is ignored")
		require.NoError(t, s.Close())
		key, err = open().IntakeKey(ctx, b)
		require.NoError(t, err)
		assert.Equal(t, a, key, "after a restart")
	})
}
