package pgserver

import "errors"

// ErrMissingBinary is returned by Start when initdb, pg_ctl or postgres is
// not in BinDir. Install Debian's postgresql-15 (make test-deps does).
var ErrMissingBinary = errors.New("PostgreSQL binary missing")
