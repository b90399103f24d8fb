package ratelimit_test

import (
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/httpapi/ratelimit"
	"github.com/rathaus-de/rathaus/internal/fakeclock"
)

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		opts    ratelimit.Options
		wantErr []string
	}{
		{name: "valid", opts: ratelimit.Options{Rate: 1, Burst: 1}},
		{name: "slow but valid", opts: ratelimit.Options{Rate: 5.0 / 3600, Burst: 5, MaxKeys: 10}},
		{name: "zero rate", opts: ratelimit.Options{Rate: 0, Burst: 1}, wantErr: []string{"rate"}},
		{name: "negative rate", opts: ratelimit.Options{Rate: -1, Burst: 1}, wantErr: []string{"rate"}},
		{name: "NaN rate", opts: ratelimit.Options{Rate: math.NaN(), Burst: 1}, wantErr: []string{"rate"}},
		{name: "infinite rate", opts: ratelimit.Options{Rate: math.Inf(1), Burst: 1}, wantErr: []string{"rate"}},
		{name: "absurdly slow", opts: ratelimit.Options{Rate: 1e-12, Burst: 1}, wantErr: []string{"refill"}},
		{name: "zero burst", opts: ratelimit.Options{Rate: 1}, wantErr: []string{"burst"}},
		{name: "negative max keys", opts: ratelimit.Options{Rate: 1, Burst: 1, MaxKeys: -1}, wantErr: []string{"max_keys"}},
		{name: "every problem", opts: ratelimit.Options{MaxKeys: -1}, wantErr: []string{"rate", "burst", "max_keys"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.Validate()
			if tc.wantErr == nil {
				assert.NoError(t, err)
				assert.NotPanics(t, func() { ratelimit.New(tc.opts) })
				return
			}
			require.ErrorIs(t, err, ratelimit.ErrInvalidOptions)
			for _, frag := range tc.wantErr {
				assert.Contains(t, err.Error(), frag)
			}
			assert.Panics(t, func() { ratelimit.New(tc.opts) })
		})
	}
}

// step is one action in a limiter scenario.
type step struct {
	advance   time.Duration // before the call
	key       string
	wantOK    bool
	wantRetry time.Duration
}

func TestLimiterAllow(t *testing.T) {
	tests := []struct {
		name  string
		opts  ratelimit.Options
		steps []step
	}{
		{
			name: "burst then refuse, then refill",
			opts: ratelimit.Options{Rate: 0.5, Burst: 3}, // one token per 2 s
			steps: []step{
				{key: "a", wantOK: true},
				{key: "a", wantOK: true},
				{key: "a", wantOK: true},
				{key: "a", wantRetry: 2 * time.Second},
				{advance: time.Second, key: "a", wantRetry: time.Second},
				{advance: 500 * time.Millisecond, key: "a", wantRetry: time.Second}, // 0.5 s rounds up
				{advance: 500 * time.Millisecond, key: "a", wantOK: true},
				{key: "a", wantRetry: 2 * time.Second},
			},
		},
		{
			name: "refusals take nothing",
			opts: ratelimit.Options{Rate: 0.25, Burst: 1}, // one token per 4 s
			steps: []step{
				{key: "a", wantOK: true},
				{advance: time.Second, key: "a", wantRetry: 3 * time.Second},
				{key: "a", wantRetry: 3 * time.Second},
				{key: "a", wantRetry: 3 * time.Second},
				{advance: 3 * time.Second, key: "a", wantOK: true},
			},
		},
		{
			name: "short waits round up to one second",
			opts: ratelimit.Options{Rate: 10, Burst: 2},
			steps: []step{
				{key: "a", wantOK: true},
				{key: "a", wantOK: true},
				{key: "a", wantRetry: time.Second},
				{advance: 99 * time.Millisecond, key: "a", wantRetry: time.Second},
				{advance: time.Millisecond, key: "a", wantOK: true},
			},
		},
		{
			name: "a long idle refills only up to burst",
			opts: ratelimit.Options{Rate: 1, Burst: 2},
			steps: []step{
				{key: "a", wantOK: true},
				{key: "a", wantOK: true},
				{advance: time.Hour, key: "a", wantOK: true},
				{key: "a", wantOK: true},
				{key: "a", wantRetry: time.Second},
			},
		},
		{
			name: "keys are independent",
			opts: ratelimit.Options{Rate: 1.0 / 60, Burst: 1},
			steps: []step{
				{key: "a", wantOK: true},
				{key: "a", wantRetry: time.Minute},
				{key: "b", wantOK: true},
				{key: "", wantOK: true},
				{advance: 30 * time.Second, key: "b", wantRetry: 30 * time.Second},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := fakeclock.New()
			tc.opts.Now = clock.Now
			l := ratelimit.New(tc.opts)
			for i, s := range tc.steps {
				clock.Advance(s.advance)
				ok, retry := l.Allow(s.key)
				assert.Equal(t, s.wantOK, ok, "step %d", i)
				assert.Equal(t, s.wantRetry, retry, "step %d", i)
			}
		})
	}
}

func TestLimiterForget(t *testing.T) {
	clock := fakeclock.New()
	l := ratelimit.New(ratelimit.Options{Rate: 1.0 / 60, Burst: 1, Now: clock.Now})
	ok, _ := l.Allow("a")
	require.True(t, ok)
	ok, _ = l.Allow("a")
	require.False(t, ok)
	l.Forget("a")
	l.Forget("never seen")
	assert.Equal(t, 0, l.Len())
	ok, _ = l.Allow("a")
	assert.True(t, ok, "a forgotten key starts with a full bucket")
}

func TestLimiterEviction(t *testing.T) {
	t.Run("refilled keys go first", func(t *testing.T) {
		clock := fakeclock.New()
		l := ratelimit.New(ratelimit.Options{Rate: 1, Burst: 1, MaxKeys: 3, Now: clock.Now})
		allow(t, l, "a", true)
		clock.Advance(2 * time.Second) // a refills
		allow(t, l, "b", true)
		allow(t, l, "c", true)
		allow(t, l, "d", true) // room made by dropping a, not b or c
		assert.Equal(t, 3, l.Len())
		allow(t, l, "b", false)
		allow(t, l, "c", false)
		allow(t, l, "d", false)
	})
	t.Run("then the least recently used", func(t *testing.T) {
		clock := fakeclock.New()
		l := ratelimit.New(ratelimit.Options{Rate: 1.0 / 60, Burst: 1, MaxKeys: 3, Now: clock.Now})
		allow(t, l, "a", true)
		allow(t, l, "b", true)
		allow(t, l, "c", true)
		allow(t, l, "a", false) // a is now the most recently used; b the least
		allow(t, l, "d", true)  // evicts b
		assert.Equal(t, 3, l.Len())
		allow(t, l, "a", false)
		allow(t, l, "c", false)
		allow(t, l, "d", false)
		allow(t, l, "b", true) // forgotten, so full again; evicts c
		assert.Equal(t, 3, l.Len())
	})
	t.Run("memory stays bounded", func(t *testing.T) {
		clock := fakeclock.New()
		l := ratelimit.New(ratelimit.Options{Rate: 1.0 / 60, Burst: 2, MaxKeys: 100, Now: clock.Now})
		for i := range 10_000 {
			l.Allow(strconv.Itoa(i))
			if i%1000 == 0 {
				clock.Advance(time.Second)
			}
		}
		assert.Equal(t, 100, l.Len())
	})
	t.Run("idle keys are dropped when new keys arrive", func(t *testing.T) {
		clock := fakeclock.New()
		l := ratelimit.New(ratelimit.Options{Rate: 1, Burst: 5, MaxKeys: 1000, Now: clock.Now})
		for i := range 500 {
			l.Allow(strconv.Itoa(i))
		}
		assert.Equal(t, 500, l.Len())
		clock.Advance(time.Second) // buckets hold 5 tokens again
		l.Allow("new")
		assert.Equal(t, 1, l.Len())
	})
}

func allow(t *testing.T, l *ratelimit.Limiter, key string, want bool) {
	t.Helper()
	ok, _ := l.Allow(key)
	assert.Equal(t, want, ok, "Allow(%q)", key)
}

func TestLimiterConcurrent(t *testing.T) {
	const (
		goroutines = 16
		calls      = 500
		burst      = 100
	)
	clock := fakeclock.New()
	l := ratelimit.New(ratelimit.Options{Rate: 1.0 / 3600, Burst: burst, MaxKeys: 50, Now: clock.Now})
	var allowedShared atomic.Int64
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range calls {
				if ok, _ := l.Allow("shared"); ok {
					allowedShared.Add(1)
				}
				l.Allow("own-" + strconv.Itoa(g) + "-" + strconv.Itoa(i%80)) // churns eviction
				if i%100 == 0 {
					l.Forget("own-" + strconv.Itoa(g) + "-0")
				}
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, burst, allowedShared.Load(), "no token is handed out twice")
	assert.LessOrEqual(t, l.Len(), 50)
}
