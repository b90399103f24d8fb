// Package upgrades holds the numbered, embedded SQL migrations of the
// rathaus database. Each file starts with a dbutil header line
// (`-- vN -> vM: what it does`) and runs on SQLite and PostgreSQL alike;
// dialect-specific lines are marked with `-- only: postgres|sqlite`.
package upgrades

import (
	"embed"

	"go.mau.fi/util/dbutil"
)

//go:embed *.sql
var files embed.FS

// Table is the upgrade table built from the embedded files.
var Table dbutil.UpgradeTable

func init() {
	Table = dbutil.BuildUpgradeTable().WithFS(files).Finish()
}
