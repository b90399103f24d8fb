package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/internal/testpg"
	"github.com/rathaus-de/rathaus/store"
)

func TestMain(m *testing.M) { os.Exit(testpg.Main(m)) }

// eachDialect runs fn once on a fresh SQLite file and once on a fresh
// database of a real PostgreSQL server, like Dendrite's storage tests.
func eachDialect(t *testing.T, fn func(t *testing.T, open func() *store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "rathaus.db")
		fn(t, func() *store.Store { return openStore(t, store.TypeSQLite, path) })
	})
	t.Run("postgres", func(t *testing.T) {
		uri := testpg.New(t)
		fn(t, func() *store.Store { return openStore(t, store.TypePostgres, uri) })
	})
}

func openStore(t *testing.T, typ, uri string) *store.Store {
	t.Helper()
	return openBenchStore(t, typ, uri)
}

func openBenchStore(tb testing.TB, typ, uri string) *store.Store {
	tb.Helper()
	s, err := store.Open(context.Background(), store.Options{Type: typ, URI: uri, Log: zerolog.Nop()})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func testpgNew(tb testing.TB) string {
	tb.Helper()
	return testpg.New(tb)
}
