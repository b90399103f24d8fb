package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/store"
)

// TestSQLiteCheckpointsInTheBackground: while transactions come in, the
// checkpointer copies SQLite's write-ahead log into the database beside
// the writer; once they stop, the whole log is in the database without
// any further commit.
func TestSQLiteCheckpointsInTheBackground(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rathaus.db")
	s := openStore(t, store.TypeSQLite, path)
	ctx := context.Background()
	body := strings.Repeat("Guten Tag, ", 100)
	for i := range 20 {
		var events []store.InboxEvent
		for j := range 50 {
			e := ev(fmt.Sprintf("!r%d:x", j%10), fmt.Sprintf("$e%d-%d", i, j))
			e.Payload = fmt.Appendf(nil, `{"event_id":"$e%d-%d","content":{"body":%q}}`, i, j, body)
			events = append(events, e)
		}
		_, err := s.SaveTransaction(ctx, fmt.Sprintf("t%d", i), events)
		require.NoError(t, err)
		// Paces the writes so they are many commits, not one group; the
		// result is awaited by polling below, not by this pause.
		time.Sleep(20 * time.Millisecond)
	}
	commits := s.InboxWriteStats().Commits
	require.Eventually(t, func() bool {
		frames, done, ok := store.LastCheckpoint(s)
		return ok && frames > 0 && done == frames
	}, 5*time.Second, 10*time.Millisecond, "the whole log checkpointed")
	assert.Equal(t, commits, s.InboxWriteStats().Commits, "by the checkpointer, not by a commit")
	info, err := os.Stat(path + "-wal")
	require.NoError(t, err)
	assert.Less(t, info.Size(), int64(8<<20), "SQLite's 1,000-page threshold bounds the log")
}
