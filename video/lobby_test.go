package video_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/video"
)

type lobbyEnv struct {
	lobby  *video.Lobby
	now    time.Time
	mu     sync.Mutex
	events []video.Knock
}

func newLobby(t *testing.T) *lobbyEnv {
	t.Helper()
	e := &lobbyEnv{now: t0}
	e.lobby = video.NewLobby(video.LobbyOptions{Now: func() time.Time { return e.now }, MaxWait: 10 * time.Minute,
		Cooldown: time.Minute, MaxKnocks: 3})
	unsubscribe := e.lobby.Subscribe(func(ev video.LobbyEvent) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.events = append(e.events, ev.Knock)
	})
	t.Cleanup(unsubscribe)
	return e
}

func (e *lobbyEnv) states() []video.KnockState {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []video.KnockState
	for _, k := range e.events {
		out = append(out, k.State)
	}
	return out
}

const anna = video.Identity("@anna:rathaus.test")

// A citizen who knocks waits, however long no caseworker comes; admitted,
// they may get a grant; every step is an event with who decided.
func TestLobbyKnockAdmit(t *testing.T) {
	e := newLobby(t)
	k, err := e.lobby.Knock("call-a", citizen)
	require.NoError(t, err)
	assert.Equal(t, video.KnockWaiting, k.State)
	assert.Equal(t, 1, k.Position)
	same, err := e.lobby.Knock("call-a", citizen)
	require.NoError(t, err)
	assert.Equal(t, k, same, "a second knock at the same instant is the same knock")
	assert.False(t, e.lobby.Admitted("call-a", citizen), "never admitted by the lobby itself")

	e.now = e.now.Add(9 * time.Minute)
	again, err := e.lobby.Knock("call-a", citizen)
	require.NoError(t, err)
	assert.Equal(t, k, again, "knocking again while waiting changes nothing")
	assert.False(t, e.lobby.Admitted("call-a", citizen), "still waiting, with no caseworker")

	k, err = e.lobby.Admit("call-a", citizen, anna)
	require.NoError(t, err)
	assert.Equal(t, video.KnockAdmitted, k.State)
	assert.Equal(t, anna, k.By)
	assert.Zero(t, k.Position)
	assert.True(t, e.lobby.Admitted("call-a", citizen))
	assert.False(t, e.lobby.Admitted("call-b", citizen), "admission is for one call")
	_, err = e.lobby.Admit("call-a", citizen, anna)
	assert.ErrorIs(t, err, video.ErrNotWaiting, "admitted once")
	assert.Equal(t, []video.KnockState{video.KnockWaiting, video.KnockAdmitted}, e.states())

	e.lobby.End("call-a")
	assert.False(t, e.lobby.Admitted("call-a", citizen), "the call's end ends the admission")
}

func TestLobbyDenyExpireAndLimits(t *testing.T) {
	e := newLobby(t)
	_, err := e.lobby.Deny("call-a", citizen, anna)
	assert.ErrorIs(t, err, video.ErrNotWaiting, "nobody knocked")
	_, err = e.lobby.Knock("call-a", citizen)
	require.NoError(t, err)
	k, err := e.lobby.Deny("call-a", citizen, anna)
	require.NoError(t, err)
	assert.Equal(t, video.KnockDenied, k.State)
	_, err = e.lobby.Admit("call-a", citizen, anna)
	assert.ErrorIs(t, err, video.ErrNotWaiting, "a denial is not admitted afterwards")
	_, err = e.lobby.Knock("call-a", citizen)
	assert.ErrorIs(t, err, video.ErrKnockTooSoon)

	// After the cool-down, a new knock; unanswered, it expires.
	e.now = e.now.Add(time.Minute)
	_, err = e.lobby.Knock("call-a", citizen)
	require.NoError(t, err)
	e.now = e.now.Add(10 * time.Minute)
	e.lobby.Sweep()
	k, ok := e.lobby.Status("call-a", citizen)
	require.True(t, ok)
	assert.Equal(t, video.KnockExpired, k.State)
	_, err = e.lobby.Admit("call-a", citizen, anna)
	assert.ErrorIs(t, err, video.ErrNotWaiting, "an expired knock cannot be admitted")

	// The third knock is the last.
	_, err = e.lobby.Knock("call-a", citizen)
	require.NoError(t, err)
	_, err = e.lobby.Deny("call-a", citizen, anna)
	require.NoError(t, err)
	e.now = e.now.Add(time.Hour)
	_, err = e.lobby.Knock("call-a", citizen)
	assert.ErrorIs(t, err, video.ErrTooManyKnocks)

	assert.Equal(t, []video.KnockState{video.KnockWaiting, video.KnockDenied, video.KnockWaiting, video.KnockExpired,
		video.KnockWaiting, video.KnockDenied}, e.states())
	_, ok = e.lobby.Status("call-a", "someone-else")
	assert.False(t, ok)
}

// Positions count the longest waiting first and move up as others leave
// the queue.
func TestLobbyPositions(t *testing.T) {
	e := newLobby(t)
	for i, who := range []video.Identity{"guest:a", "guest:b", "guest:c"} {
		e.now = t0.Add(time.Duration(i) * time.Second)
		k, err := e.lobby.Knock("call-a", who)
		require.NoError(t, err)
		assert.Equal(t, i+1, k.Position)
	}
	_, err := e.lobby.Admit("call-a", "guest:a", anna)
	require.NoError(t, err)
	waiting := e.lobby.Waiting("call-a")
	require.Len(t, waiting, 2)
	assert.Equal(t, video.Identity("guest:b"), waiting[0].Identity)
	assert.Equal(t, 1, waiting[0].Position)
	assert.Equal(t, 2, waiting[1].Position)
	assert.Empty(t, e.lobby.Waiting("call-b"))
}

// Many knocks and decisions at once: no race, and every knock ends in one
// state.
func TestLobbyConcurrent(t *testing.T) {
	e := newLobby(t)
	var wg sync.WaitGroup
	for i := range 20 {
		who := video.Identity("guest:" + string(rune('a'+i)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.lobby.Knock("call-a", who)
			assert.NoError(t, err)
			if i%2 == 0 {
				_, err = e.lobby.Admit("call-a", who, anna)
			} else {
				_, err = e.lobby.Deny("call-a", who, anna)
			}
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	assert.Empty(t, e.lobby.Waiting("call-a"))
	assert.Len(t, e.states(), 40)
}

// TestLobbyWithdraw: "Abbrechen" or hang-up takes the citizen out of the
// lobby and voids the admission; a new knock waits again (no cooldown,
// which only follows a denial) and counts towards MaxKnocks.
func TestLobbyWithdraw(t *testing.T) {
	e := newLobby(t)
	_, err := e.lobby.Knock("c", "citizen")
	require.NoError(t, err)
	_, err = e.lobby.Admit("c", "citizen", "@anna:x")
	require.NoError(t, err)
	e.lobby.Withdraw("c", "citizen")
	assert.False(t, e.lobby.Admitted("c", "citizen"), "hanging up ends the admission")
	k, ok := e.lobby.Status("c", "citizen")
	require.True(t, ok)
	assert.Equal(t, video.KnockLeft, k.State)
	e.lobby.Withdraw("c", "citizen") // twice changes nothing
	k, err = e.lobby.Knock("c", "citizen")
	require.NoError(t, err)
	assert.Equal(t, video.KnockWaiting, k.State, "a new knock waits for admission again")
	assert.Equal(t, []video.KnockState{video.KnockWaiting, video.KnockAdmitted, video.KnockLeft, video.KnockWaiting}, e.states())
	e.lobby.Withdraw("c", "citizen")
	_, err = e.lobby.Knock("c", "citizen")
	require.NoError(t, err, "the third knock")
	e.lobby.Withdraw("c", "citizen")
	_, err = e.lobby.Knock("c", "citizen")
	require.ErrorIs(t, err, video.ErrTooManyKnocks, "a fourth is one too many")
}
