package pgserver_test

import (
	"database/sql"
	"os"
	"testing"

	_ "github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/internal/pgserver"
)

// TestDefaultsAreDurable: without Settings the server keeps PostgreSQL's
// durable defaults (the benchmark relies on it), Settings override them,
// and Stop removes everything.
func TestDefaultsAreDurable(t *testing.T) {
	for _, tc := range []struct {
		name     string
		settings []string
		want     string
	}{
		{name: "defaults", want: "on"},
		{name: "fsync off", settings: []string{"fsync=off"}, want: "off"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := pgserver.Start(pgserver.Options{Settings: tc.settings})
			require.NoError(t, err)
			t.Cleanup(func() { _ = s.Stop() })
			assert.Positive(t, s.Pid())

			uri, err := s.CreateDatabase(t.Context(), "bench_db")
			require.NoError(t, err)
			assert.Equal(t, s.URI("bench_db"), uri)
			db, err := sql.Open("postgres", uri)
			require.NoError(t, err)
			var fsync string
			require.NoError(t, db.QueryRowContext(t.Context(), "SHOW fsync").Scan(&fsync))
			assert.Equal(t, tc.want, fsync)
			require.NoError(t, db.Close())
			require.NoError(t, s.DropDatabase(t.Context(), "bench_db"))

			dir := s.AdminURI() // still valid after Stop: a copy
			require.NoError(t, s.Stop())
			assert.NotEmpty(t, dir.Host)
			var n int
			require.Error(t, s.Admin().QueryRowContext(t.Context(), "SELECT 1").Scan(&n), "closed by Stop")
			_, statErr := os.Stat(s.DataDir())
			assert.ErrorIs(t, statErr, os.ErrNotExist, "data directory removed")
		})
	}
}
