package ratelimit_test

import (
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

// testSet is a guest-chat-like set: 2 per session per minute, 3 per
// address per minute, 100 globally per second.
func testSet(t *testing.T, clock *fakeclock.Clock) (*ratelimit.Set, map[string]*ratelimit.Limiter) {
	t.Helper()
	ls := map[string]*ratelimit.Limiter{
		"session": ratelimit.New(ratelimit.Options{Rate: 2.0 / 60, Burst: 2, Now: clock.Now}),
		"ip":      ratelimit.New(ratelimit.Options{Rate: 3.0 / 60, Burst: 3, Now: clock.Now}),
		"global":  ratelimit.New(ratelimit.Options{Rate: 100, Burst: 100, Now: clock.Now}),
	}
	s, err := ratelimit.NewSet(
		ratelimit.Named{Name: "session", Limiter: ls["session"]},
		ratelimit.Named{Name: "ip", Limiter: ls["ip"]},
		ratelimit.Named{Name: "global", Limiter: ls["global"]},
	)
	require.NoError(t, err)
	return s, ls
}

func keys(session, ip string) map[string]string {
	return map[string]string{"session": session, "ip": ip, "global": ""}
}

func TestSetAllow(t *testing.T) {
	clock := fakeclock.New()
	s, _ := testSet(t, clock)

	type call struct {
		keys      map[string]string
		wantOK    bool
		wantRetry time.Duration
		wantWhich string
	}
	calls := []call{
		{keys: keys("s1", "ip1"), wantOK: true},
		{keys: keys("s1", "ip1"), wantOK: true},
		// s1 is out; ip1 has one token left and must keep it.
		{keys: keys("s1", "ip1"), wantRetry: 30 * time.Second, wantWhich: "session"},
		{keys: keys("s1", "ip1"), wantRetry: 30 * time.Second, wantWhich: "session"},
		{keys: keys("s2", "ip1"), wantOK: true}, // ip1's third token
		{keys: keys("s3", "ip1"), wantRetry: 20 * time.Second, wantWhich: "ip"},
		// Both refuse: the longer wait decides.
		{keys: keys("s1", "ip1"), wantRetry: 30 * time.Second, wantWhich: "session"},
		{keys: keys("s4", "ip2"), wantOK: true},
	}
	for i, c := range calls {
		ok, retry, which := s.Allow(c.keys)
		assert.Equal(t, c.wantOK, ok, "call %d", i)
		assert.Equal(t, c.wantRetry, retry, "call %d", i)
		assert.Equal(t, c.wantWhich, which, "call %d", i)
	}

	clock.Advance(20 * time.Second)
	ok, _, _ := s.Allow(keys("s3", "ip1"))
	assert.True(t, ok, "ip1 regained a token")
	ok, retry, which := s.Allow(keys("s1", "ip1"))
	assert.False(t, ok)
	assert.Equal(t, "ip", which, "ip waits 20 s, session 10 s")
	assert.Equal(t, 20*time.Second, retry)
}

func TestSetRefusalTakesNothing(t *testing.T) {
	clock := fakeclock.New()
	s, ls := testSet(t, clock)
	ok, _, _ := s.Allow(keys("s1", "ip1"))
	require.True(t, ok)
	ok, _, _ = s.Allow(keys("s1", "ip1"))
	require.True(t, ok)

	for range 50 {
		ok, _, which := s.Allow(keys("s1", "ip1"))
		require.False(t, ok)
		require.Equal(t, "session", which)
	}
	// The 50 refusals left ip1 with its last token and global with 98.
	ok, _ = ls["ip"].Allow("ip1")
	assert.True(t, ok)
	ok, _ = ls["ip"].Allow("ip1")
	assert.False(t, ok)
	for i := range 98 {
		ok, _ = ls["global"].Allow("")
		require.True(t, ok, "global token %d", i)
	}
	ok, _ = ls["global"].Allow("")
	assert.False(t, ok, "global had exactly 98 tokens left")
}

func TestSetKeysSelectLimiters(t *testing.T) {
	clock := fakeclock.New()
	s, ls := testSet(t, clock)

	// No session yet: only ip and global are consulted.
	for range 3 {
		ok, _, _ := s.Allow(map[string]string{"ip": "ip1", "global": ""})
		require.True(t, ok)
	}
	ok, _, which := s.Allow(map[string]string{"ip": "ip1", "global": ""})
	assert.False(t, ok)
	assert.Equal(t, "ip", which)
	assert.Equal(t, 0, ls["session"].Len(), "session limiter untouched")

	ok, _, _ = s.Allow(nil)
	assert.True(t, ok, "no keys, no limits")

	assert.PanicsWithValue(t, `ratelimit: Set has no limiter named "sesion"`, func() {
		s.Allow(map[string]string{"sesion": "s1"})
	})
}

func TestNewSet(t *testing.T) {
	a := ratelimit.New(ratelimit.Options{Rate: 1, Burst: 1})
	b := ratelimit.New(ratelimit.Options{Rate: 1, Burst: 1})
	tests := []struct {
		name    string
		named   []ratelimit.Named
		wantErr string
	}{
		{name: "empty set", named: nil},
		{name: "two", named: []ratelimit.Named{{Name: "a", Limiter: a}, {Name: "b", Limiter: b}}},
		{name: "empty name", named: []ratelimit.Named{{Limiter: a}}, wantErr: "name is empty"},
		{name: "duplicate name", named: []ratelimit.Named{{Name: "a", Limiter: a}, {Name: "a", Limiter: b}}, wantErr: "name used twice"},
		{name: "nil limiter", named: []ratelimit.Named{{Name: "a"}}, wantErr: "Limiter is nil"},
		{name: "same limiter twice", named: []ratelimit.Named{{Name: "a", Limiter: a}, {Name: "b", Limiter: a}}, wantErr: "same Limiter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ratelimit.NewSet(tc.named...)
			if tc.wantErr == "" {
				require.NoError(t, err)
				assert.NotNil(t, s)
				return
			}
			assert.ErrorIs(t, err, ratelimit.ErrInvalidOptions)
			assert.ErrorContains(t, err, tc.wantErr)
		})
	}
}

// TestSetConcurrent hammers two Sets that share limiters in opposite
// orders, plus direct use of a shared limiter, under -race: no deadlock and
// no token handed out twice.
func TestSetConcurrent(t *testing.T) {
	const (
		goroutines  = 16
		calls       = 300
		globalBurst = 200
	)
	clock := fakeclock.New()
	global := ratelimit.New(ratelimit.Options{Rate: 1.0 / 3600, Burst: globalBurst, Now: clock.Now})
	ip := ratelimit.New(ratelimit.Options{Rate: 1.0 / 3600, Burst: 1000, Now: clock.Now})
	session := ratelimit.New(ratelimit.Options{Rate: 1.0 / 3600, Burst: 5, Now: clock.Now})
	forward, err := ratelimit.NewSet(
		ratelimit.Named{Name: "session", Limiter: session},
		ratelimit.Named{Name: "ip", Limiter: ip},
		ratelimit.Named{Name: "global", Limiter: global},
	)
	require.NoError(t, err)
	backward, err := ratelimit.NewSet(
		ratelimit.Named{Name: "global", Limiter: global},
		ratelimit.Named{Name: "ip", Limiter: ip},
	)
	require.NoError(t, err)

	var allowed, directIP atomic.Int64
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range calls {
				var ok bool
				switch i % 3 {
				case 0:
					ok, _, _ = forward.Allow(map[string]string{
						"session": "s" + strconv.Itoa(g*1000+i/10), "ip": "ip" + strconv.Itoa(g%4), "global": "",
					})
				case 1:
					ok, _, _ = backward.Allow(map[string]string{"ip": "ip" + strconv.Itoa(g%4), "global": ""})
				case 2:
					if ok, _ := ip.Allow("ip" + strconv.Itoa(g%4)); ok {
						directIP.Add(1)
					}
					continue
				}
				if ok {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, globalBurst, allowed.Load(), "the global limit is never overdrawn")
	// Each ip key had 1000 tokens; 4 keys. Sets used 200 of them, direct
	// calls at most the rest.
	assert.LessOrEqual(t, directIP.Load()+allowed.Load(), int64(4*1000))
}
