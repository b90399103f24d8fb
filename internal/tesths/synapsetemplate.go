package tesths

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rathaus-de/rathaus/internal/devhs"
)

const (
	// templateDir is where, inside the venv, the database template lives:
	// it belongs to exactly that Synapse and goes when the venv is rebuilt.
	templateDir     = "rathaus-template"
	templateTimeout = 5 * time.Minute
)

var (
	templateMu    sync.Mutex
	templatePaths = map[string]string{} // python -> template ("" for none)
)

// synapseTemplate returns a migrated, empty Synapse database for the
// Synapse of python (devhs.MigrateSynapseDatabase), which each new instance
// starts from. It is made once per venv, under a file lock, and kept at
// <venv>/rathaus-template/homeserver.db. A python outside a venv, or a venv
// that is not writable, gets no template ("", nil): its instances migrate
// their own databases, which costs some tenths of a second per start and
// background updates for a minute after it.
func synapseTemplate(tb testing.TB, python string) (string, error) {
	tb.Helper()
	templateMu.Lock()
	defer templateMu.Unlock()
	if path, ok := templatePaths[python]; ok {
		return path, nil
	}
	venv := filepath.Dir(filepath.Dir(python))
	if _, err := os.Stat(filepath.Join(venv, "pyvenv.cfg")); err != nil {
		tb.Logf("tesths: %s is not in a venv; every Synapse migrates its own database", python)
		templatePaths[python] = ""
		return "", nil
	}
	dir := filepath.Join(venv, templateDir)
	path := filepath.Join(dir, devhs.SynapseDatabase)
	if _, err := os.Stat(path); err == nil {
		templatePaths[python] = path
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Logf("tesths: no Synapse database template (%v); every Synapse migrates its own database", err)
		templatePaths[python] = ""
		return "", nil
	}
	unlock, err := lockFile(dir + ".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(path); err != nil {
		started := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), templateTimeout)
		defer cancel()
		if err := devhs.MigrateSynapseDatabase(ctx, python, path); err != nil {
			return "", fmt.Errorf("failed to make the Synapse database template: %w", err)
		}
		tb.Logf("tesths: migrated the Synapse database template %s in %s", path, time.Since(started).Round(100*time.Millisecond))
	}
	templatePaths[python] = path
	return path, nil
}
