package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/rathaus-de/rathaus/internal/modroot"
)

const (
	// EnvChromium names the Chromium executable; the harness reads it too.
	EnvChromium = "RATHAUS_CHROMIUM"
	// EnvArtifacts names a directory that keeps screenshots of failed
	// scripts (see the package documentation).
	EnvArtifacts = "RATHAUS_BROWSER_ARTIFACTS"

	defaultChromium = "/usr/bin/chromium"
	browserDir      = "tests/browser"
	minNodeMajor    = 20
)

// pinnedPackages must be installed in the versions of package-lock.json.
var pinnedPackages = []string{"playwright-core", "axe-core"}

// setup is what every script needs; it is checked once per test binary.
type setup struct {
	root     string // repository root
	dir      string // <root>/tests/browser
	node     string
	chromium string
}

var (
	setupOnce sync.Once
	setupVal  setup
	setupErr  error
)

func findSetup() (setup, error) {
	setupOnce.Do(func() { setupVal, setupErr = checkSetup() })
	return setupVal, setupErr
}

func checkSetup() (setup, error) {
	var s setup
	root, err := modroot.Find()
	if err != nil {
		return s, err
	}
	s.root = root
	s.dir = filepath.Join(root, browserDir)

	if s.node, err = exec.LookPath("node"); err != nil {
		return s, fmt.Errorf("browser tests need Node.js %d or newer on PATH: %w", minNodeMajor, err)
	}
	// Checked once for all tests of the process (findSetup), so no one
	// test's context applies.
	out, err := exec.CommandContext(context.Background(), s.node, "-p", "process.versions.node").Output()
	if err != nil {
		return s, fmt.Errorf("failed to run %s: %w", s.node, err)
	}
	version := strings.TrimSpace(string(out))
	major, _ := strconv.Atoi(strings.SplitN(version, ".", 2)[0])
	if major < minNodeMajor {
		return s, fmt.Errorf("browser tests need Node.js %d or newer, %s is %s", minNodeMajor, s.node, version)
	}

	if err := checkNodeModules(s.dir); err != nil {
		return s, fmt.Errorf("%w; run `make test` (or `make test-deps`) to install them", err)
	}

	s.chromium = os.Getenv(EnvChromium)
	if s.chromium == "" {
		s.chromium = defaultChromium
	}
	if info, err := os.Stat(s.chromium); err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		return s, fmt.Errorf("no Chromium executable at %s: run `make test` (installs Debian's chromium package) or set %s", s.chromium, EnvChromium)
	}
	return s, nil
}

// checkNodeModules compares the installed versions of the pinned packages
// with package-lock.json, so a stale node_modules is reported here and not
// as a puzzling failure inside a script.
func checkNodeModules(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return fmt.Errorf("failed to read the browser test lock file: %w", err)
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(data, &lock); err != nil {
		return fmt.Errorf("failed to parse %s/package-lock.json: %w", dir, err)
	}
	for _, name := range pinnedPackages {
		want := lock.Packages["node_modules/"+name].Version
		data, err := os.ReadFile(filepath.Join(dir, "node_modules", name, "package.json"))
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s is not installed in %s/node_modules", name, dir)
		}
		if err != nil {
			return fmt.Errorf("failed to read the installed %s: %w", name, err)
		}
		var pkg struct {
			Version string `json:"version"`
		}
		if err := json.Unmarshal(data, &pkg); err != nil {
			return fmt.Errorf("failed to parse the installed %s: %w", name, err)
		}
		if pkg.Version != want {
			return fmt.Errorf("%s %s is installed in %s/node_modules, package-lock.json pins %q", name, pkg.Version, dir, want)
		}
	}
	return nil
}
