package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/store"
	"github.com/rathaus-de/rathaus/widgets/guestchat/pow"
)

var _ pow.SpentStore = (*store.Store)(nil)

func TestPowSpent(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		exp := time.Now().Add(time.Minute)
		var first atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.MarkSpent(ctx, "challenge-1", exp)
				assert.NoError(t, err)
				if ok {
					first.Add(1)
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, int32(1), first.Load(), "exactly one first use")

		require.NoError(t, s.PrunePowSpent(ctx, exp.Add(time.Second)))
		ok, err := s.MarkSpent(ctx, "challenge-1", exp)
		require.NoError(t, err)
		assert.True(t, ok, "forgotten after expiry (refused for its age by pow.Verify anyway)")
	})
}
