package tesths

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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

// EnvDendriteBin names the environment variable that points at a prebuilt
// Dendrite binary. When it is set, DendriteBinary never builds.
const EnvDendriteBin = "RATHAUS_DENDRITE_BIN"

const (
	toolsModuleDir  = "tools/dendrite"
	dendritePackage = "github.com/element-hq/dendrite/cmd/dendrite"
	buildTimeout    = 15 * time.Minute
)

var (
	binaryMu   sync.Mutex
	binaryPath string // set once a binary was found or built
)

// DendriteBinary returns the path of an executable Dendrite binary, building
// and caching it on first use (see the package documentation). It fails the
// test if there is none and it cannot be built.
func DendriteBinary(tb testing.TB) string {
	tb.Helper()
	path, err := dendriteBinary(tb)
	if err != nil {
		tb.Fatalf("tesths: %v", err)
	}
	return path
}

func dendriteBinary(tb testing.TB) (string, error) {
	tb.Helper()
	binaryMu.Lock()
	defer binaryMu.Unlock()
	if binaryPath != "" {
		return binaryPath, nil
	}
	if env := os.Getenv(EnvDendriteBin); env != "" {
		if err := devhs.CheckExecutable(env); err != nil {
			return "", fmt.Errorf("%s: %w", EnvDendriteBin, err)
		}
		binaryPath = env
		return binaryPath, nil
	}
	root, err := modroot.Find()
	if err != nil {
		return "", fmt.Errorf("%w (or set %s)", err, EnvDendriteBin)
	}
	path, err := cachedBinary(tb, root)
	if err != nil {
		return "", err
	}
	binaryPath = path
	return binaryPath, nil
}

// toolsHash identifies the pinned Dendrite build: a change of go.mod or
// go.sum in tools/dendrite gives a new cache directory.
func toolsHash(toolsDir string) (string, error) {
	h := sha256.New()
	for _, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(toolsDir, name))
		if err != nil {
			return "", fmt.Errorf("failed to read the pinned Dendrite module: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", name, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// cachedBinary returns <root>/.cache/dendrite/<hash>/dendrite, building it
// under an exclusive file lock if it does not exist yet. Test binaries of
// different packages run as parallel processes, hence the lock; the build
// writes to a temporary name and renames, so a reader never sees a partial
// file.
func cachedBinary(tb testing.TB, root string) (string, error) {
	tb.Helper()
	toolsDir := filepath.Join(root, toolsModuleDir)
	hash, err := toolsHash(toolsDir)
	if err != nil {
		return "", err
	}
	cacheDir := filepath.Join(root, ".cache", "dendrite", hash)
	target := filepath.Join(cacheDir, "dendrite")
	if devhs.CheckExecutable(target) == nil {
		return target, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("failed to create the binary cache: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(cacheDir, "build.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("failed to open the build lock: %w", err)
	}
	defer lock.Close()
	if err := flock(lock); err != nil {
		return "", fmt.Errorf("failed to take the build lock: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing the file releases it too
	// Another process may have built it while we waited for the lock.
	if devhs.CheckExecutable(target) == nil {
		return target, nil
	}

	tb.Logf("tesths: building Dendrite into %s (set %s to skip)", target, EnvDendriteBin)
	started := time.Now()
	tmp := fmt.Sprintf("%s.tmp-%d", target, os.Getpid())
	defer os.Remove(tmp)
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("no go command to build Dendrite with (or set %s): %w", EnvDendriteBin, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", tmp, dendritePackage)
	cmd.Dir = toolsDir
	// The tools module stands alone: neither a workspace nor GOFLAGS meant
	// for the rathaus module (-mod, -modfile) apply to it.
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("failed to build Dendrite: %w\n%s", err, out.String())
	}
	if err := os.Rename(tmp, target); err != nil {
		return "", fmt.Errorf("failed to move the Dendrite binary into the cache: %w", err)
	}
	tb.Logf("tesths: built Dendrite in %s", time.Since(started).Round(time.Second))
	return target, nil
}

// flock takes an exclusive lock, retrying when a signal interrupts the wait.
func flock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
