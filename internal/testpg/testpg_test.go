package testpg_test

import (
	"database/sql"
	"os"
	"strings"
	"testing"

	_ "github.com/lib/pq"

	"github.com/rathaus-de/rathaus/internal/testpg"
)

func TestMain(m *testing.M) { os.Exit(testpg.Main(m)) }

// useDB checks that the database is fresh, creates table and inserts a row,
// and checks that the table of the other test is not visible.
func useDB(t *testing.T, table, other string) {
	t.Helper()
	t.Parallel()
	uri := testpg.New(t)
	if !strings.HasPrefix(uri, "postgres://") {
		t.Fatalf("unexpected URI %q", uri)
	}

	db, err := sql.Open("postgres", uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM information_schema.tables
		WHERE table_schema = 'public'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("new database has %d tables, want 0", n)
	}

	if _, err := db.ExecContext(t.Context(), `CREATE TABLE `+table+` (id int PRIMARY KEY, v text)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), `INSERT INTO `+table+` VALUES (1, $1)`, t.Name()); err != nil {
		t.Fatal(err)
	}
	var v string
	if err := db.QueryRowContext(t.Context(), `SELECT v FROM `+table+` WHERE id = 1`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != t.Name() {
		t.Fatalf("got %q, want %q", v, t.Name())
	}

	// The other test's table lives in another database and is invisible here.
	var reg sql.NullString
	if err := db.QueryRowContext(t.Context(), `SELECT to_regclass($1)::text`, other).Scan(&reg); err != nil {
		t.Fatal(err)
	}
	if reg.Valid {
		t.Fatalf("table %q of the other test is visible", other)
	}
	if _, err := db.ExecContext(t.Context(), `SELECT * FROM `+other); err == nil {
		t.Fatalf("querying table %q of the other test succeeded", other)
	}
}

func TestFirst(t *testing.T)  { useDB(t, "first", "second") }
func TestSecond(t *testing.T) { useDB(t, "second", "first") }

func TestDistinctDatabases(t *testing.T) {
	a, b := testpg.New(t), testpg.New(t)
	if a == b {
		t.Fatalf("two calls returned the same URI %q", a)
	}
}
