package cli_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/internal/cli"
	"github.com/rathaus-de/rathaus/store"
)

// TestParkedCommand: the operator lists the events that failed every
// retry (what and why, never the content) and hands them back to the
// dispatcher; bad input is a usage error.
func TestParkedCommand(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "rathaus.db")
	cfg := exampleWithoutPlaceholders(t)
	cfg = strings.Replace(cfg, "as_token: generate", "as_token: "+strings.Repeat("a", 64), 1)
	cfg = strings.Replace(cfg, "hs_token: generate", "hs_token: "+strings.Repeat("b", 64), 1)
	cfg = strings.Replace(cfg, "  uri: rathaus.db", "  uri: "+dbPath, 1)
	path := writeFile(t, cfg)

	ctx := context.Background()
	s, err := store.Open(ctx, store.Options{Type: store.TypeSQLite, URI: dbPath, Log: zerolog.Nop()})
	require.NoError(t, err)
	payload, _ := json.Marshal(map[string]any{"type": "m.room.message", "content": map[string]any{"body": "Geheimer Inhalt"}})
	_, err = s.SaveTransaction(ctx, "t1", []store.InboxEvent{{EventID: "$e1", RoomID: "!r:x", Type: "m.room.message", Payload: payload}})
	require.NoError(t, err)
	batch, err := s.NextBatch(ctx, "!r:x", time.Now(), 1)
	require.NoError(t, err)
	require.Len(t, batch, 1)
	seq := batch[0].Seq
	require.NoError(t, s.StartBatch(ctx, "!r:x", store.SeqRange{From: seq, To: seq}))
	_, err = s.FinishBatch(ctx, store.BatchOutcome{RoomID: "!r:x",
		Failed: &store.FailedEvent{Seq: seq, Reason: "failed to store case event:\nboom", Park: true}})
	require.NoError(t, err)
	// And a webhook the outbox gave up on.
	_, err = s.EnqueueJob(ctx, "webhook", "case-1/claimed", []byte(`{"target":"bauportal","body":{}}`))
	require.NoError(t, err)
	jobs, err := s.DueJobs(ctx, time.Now(), 10)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	_, err = s.StartJob(ctx, jobs[0].ID)
	require.NoError(t, err)
	require.NoError(t, s.FinishJob(ctx, jobs[0].ID, errors.New("webhook: the receiver answered 410"), time.Time{}, true))
	require.NoError(t, s.Close())

	code, stdout, stderr := run("parked", "-c", path)
	require.Equal(t, cli.ExitOK, code, stderr)
	for _, want := range []string{"SEQ", strconv.FormatInt(seq, 10), "$e1", "!r:x", "m.room.message", "failed to store case event: boom",
		"1 parked event(s)", "-requeue all"} {
		assert.Contains(t, stdout, want)
	}
	assert.NotContains(t, stdout, "Geheimer Inhalt", "never the content")
	for _, want := range []string{"Outbox jobs (webhooks):", "case-1/claimed", "the receiver answered 410", "-requeue-jobs all"} {
		assert.Contains(t, stdout, want)
	}
	code, stdout, stderr = run("parked", "-c", path, "-requeue-jobs", "all")
	require.Equal(t, cli.ExitOK, code, stderr)
	assert.Contains(t, stdout, "Requeued 1 parked outbox job(s)")

	code, _, stderr = run("parked", "-c", path, "-requeue", "x,1")
	assert.Equal(t, cli.ExitUsage, code)
	assert.Contains(t, stderr, `"x" is not one`)

	code, stdout, stderr = run("parked", "-c", path, "-requeue", strconv.FormatInt(seq, 10)+",424242")
	require.Equal(t, cli.ExitOK, code, stderr)
	assert.Contains(t, stdout, "Requeued 1 parked event(s)")
	assert.Contains(t, stdout, "1 of the seqs given were not parked")

	code, stdout, _ = run("parked", "-c", path)
	require.Equal(t, cli.ExitOK, code)
	assert.Contains(t, stdout, "No parked events")
	assert.Contains(t, stdout, "No parked outbox jobs")

	s, err = store.Open(ctx, store.Options{Type: store.TypeSQLite, URI: dbPath, Log: zerolog.Nop()})
	require.NoError(t, err)
	defer s.Close()
	batch, err = s.NextBatch(ctx, "!r:x", time.Now(), 1)
	require.NoError(t, err)
	require.Len(t, batch, 1, "the event is back with the dispatcher")
	assert.Zero(t, batch[0].Attempts)

	code, _, _ = run("parked")
	assert.Equal(t, cli.ExitUsage, code, "without -c")
}
