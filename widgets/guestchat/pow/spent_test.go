package pow_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/internal/fakeclock"
	"github.com/rathaus-de/rathaus/widgets/guestchat/pow"
)

func TestMemorySpentStore(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New()
	s := pow.NewMemorySpentStore(clock.Now)
	exp := clock.Now().Add(5 * time.Minute)

	first, err := s.MarkSpent(ctx, "a", exp)
	require.NoError(t, err)
	assert.True(t, first)
	first, err = s.MarkSpent(ctx, "a", exp)
	require.NoError(t, err)
	assert.False(t, first, "second use")
	first, err = s.MarkSpent(ctx, "b", clock.Now().Add(10*time.Minute))
	require.NoError(t, err)
	assert.True(t, first, "other id")
	assert.Equal(t, 2, s.Len())

	// After a's expiry the next write sweeps it; b stays.
	clock.Advance(6 * time.Minute)
	first, err = s.MarkSpent(ctx, "c", clock.Now().Add(time.Minute))
	require.NoError(t, err)
	assert.True(t, first)
	assert.Equal(t, 2, s.Len(), "a swept, b and c kept")
	first, err = s.MarkSpent(ctx, "b", clock.Now().Add(time.Minute))
	require.NoError(t, err)
	assert.False(t, first, "b is still spent until it expires")
}

func TestMemorySpentStoreConcurrent(t *testing.T) {
	const racers, ids = 20, 50
	ctx := context.Background()
	s := pow.NewMemorySpentStore(nil)
	exp := time.Now().Add(time.Minute)
	wins := make([]int, ids)
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range racers {
		wg.Go(func() {
			<-start
			for id := range ids {
				first, err := s.MarkSpent(ctx, string(rune('A'+id)), exp)
				assert.NoError(t, err)
				if first {
					mu.Lock()
					wins[id]++
					mu.Unlock()
				}
			}
		})
	}
	close(start)
	wg.Wait()
	for id, w := range wins {
		assert.Equal(t, 1, w, "id %d won by exactly one racer", id)
	}
}
