// Package modroot finds the checkout of the rathaus module that a test or
// a development tool runs in, for what lives beside the code (tools/,
// .cache/, tests/browser).
package modroot

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Path is the rathaus module's path.
const Path = "github.com/rathaus-de/rathaus"

// ErrNotFound is returned by Find when no directory above the working
// directory holds the rathaus module's go.mod.
var ErrNotFound = errors.New("not inside the rathaus module")

// Find walks up from the working directory (a test's package directory,
// or wherever a tool was started) to the go.mod of the rathaus module and
// returns its directory.
func Find() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("failed to get working directory: %w", err)
	}
	start := dir
	for {
		if name, err := moduleName(filepath.Join(dir, "go.mod")); err == nil && name == Path {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%w: no go.mod of %s above %s", ErrNotFound, Path, start)
		}
		dir = parent
	}
}

func moduleName(goMod string) (string, error) {
	f, err := os.Open(goMod)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	return "", errors.New("no module line")
}
