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
)

func TestBindContextJTI(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		exp := time.Now().Add(10 * time.Minute)
		var bound atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				binding := "session-a"
				if i%2 == 1 {
					binding = "session-b"
				}
				ok, err := s.BindContextJTI(ctx, "bauantrag-online", "jti-1", binding, exp)
				assert.NoError(t, err)
				if ok {
					bound.Add(1)
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, int32(5), bound.Load(), "only the calls of the session that came first")

		ok, err := s.BindContextJTI(ctx, "other-service", "jti-1", "session-c", exp)
		require.NoError(t, err)
		assert.True(t, ok, "jtis are per service")

		n, err := s.CountContextJTIs(ctx)
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		require.NoError(t, s.PruneContextJTIs(ctx, exp.Add(time.Second)))
		n, err = s.CountContextJTIs(ctx)
		require.NoError(t, err)
		assert.Zero(t, n)
	})
}
