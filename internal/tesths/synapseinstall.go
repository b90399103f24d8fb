package tesths

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rathaus-de/rathaus/internal/devhs"
	"github.com/rathaus-de/rathaus/internal/modroot"
)

// EnvSynapsePython names the environment variable that points at the python
// of a venv with the pinned Synapse installed. When it is set,
// SynapsePython never installs.
const EnvSynapsePython = "RATHAUS_SYNAPSE_PYTHON"

const (
	synapseToolsDir = "tools/synapse"
	installTimeout  = 15 * time.Minute
	// venvStamp is the last file install.sh writes; a venv without it is
	// not one of ours.
	venvStamp = "synapse-version"
)

var (
	pythonMu   sync.Mutex
	pythonPath string // set once a venv was found or built
)

// SynapsePython returns the path of a python that runs the pinned Synapse,
// installing it on first use (see the package documentation). It fails the
// test if there is none and it cannot be installed.
func SynapsePython(tb testing.TB) string {
	tb.Helper()
	path, err := synapsePython(tb)
	if err != nil {
		tb.Fatalf("tesths: %v", err)
	}
	return path
}

func synapsePython(tb testing.TB) (string, error) {
	tb.Helper()
	pythonMu.Lock()
	defer pythonMu.Unlock()
	if pythonPath != "" {
		return pythonPath, nil
	}
	if env := os.Getenv(EnvSynapsePython); env != "" {
		if err := devhs.CheckExecutable(env); err != nil {
			return "", fmt.Errorf("%s: %w", EnvSynapsePython, err)
		}
		pythonPath = env
		return pythonPath, nil
	}
	root, err := modroot.Find()
	if err != nil {
		return "", fmt.Errorf("%w (or set %s)", err, EnvSynapsePython)
	}
	path, err := cachedVenv(tb, root)
	if err != nil {
		return "", err
	}
	pythonPath = path
	return pythonPath, nil
}

// lockHash identifies the pinned Synapse: the first 16 hex digits of the
// SHA-256 of tools/synapse/requirements.txt, as the Makefile computes it.
func lockHash(toolsDir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(toolsDir, "requirements.txt"))
	if err != nil {
		return "", fmt.Errorf("failed to read the Synapse lock: %w", err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:16], nil
}

// cachedVenv returns <root>/.cache/synapse-<hash>/bin/python, running
// tools/synapse/install.sh under an exclusive file lock if the venv does
// not exist yet. install.sh builds it under a temporary name and renames it,
// so a venv with its stamp file is complete.
func cachedVenv(tb testing.TB, root string) (string, error) {
	tb.Helper()
	toolsDir := filepath.Join(root, synapseToolsDir)
	hash, err := lockHash(toolsDir)
	if err != nil {
		return "", err
	}
	venv := filepath.Join(root, ".cache", "synapse-"+hash)
	python := filepath.Join(venv, "bin", "python")
	if venvComplete(venv) {
		return python, nil
	}
	if err := os.MkdirAll(filepath.Dir(venv), 0o755); err != nil {
		return "", fmt.Errorf("failed to create the cache directory: %w", err)
	}
	unlock, err := lockFile(venv + ".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	// Another process may have installed it while we waited for the lock.
	if venvComplete(venv) {
		return python, nil
	}

	tb.Logf("tesths: installing Synapse into %s (set %s to skip)", venv, EnvSynapsePython)
	started := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", filepath.Join(toolsDir, "install.sh"), venv)
	cmd.Dir = toolsDir
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("failed to install Synapse (make synapse says how, or set %s): %w\n%s",
			EnvSynapsePython, err, out.String())
	}
	if !venvComplete(venv) {
		return "", fmt.Errorf("failed to install Synapse: no %s in %s after install.sh", venvStamp, venv)
	}
	tb.Logf("tesths: installed Synapse in %s", time.Since(started).Round(time.Second))
	return python, nil
}

// venvComplete reports whether venv holds a finished install.
func venvComplete(venv string) bool {
	if _, err := os.Stat(filepath.Join(venv, venvStamp)); err != nil {
		return false
	}
	return devhs.CheckExecutable(filepath.Join(venv, "bin", "python")) == nil
}

// lockFile takes an exclusive lock on path, creating it, and returns the
// function that releases it. Test binaries of different packages run as
// parallel processes; the lock makes them install or build only once.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("failed to open the lock %s: %w", path, err)
	}
	if err := flock(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("failed to take the lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
