package ingest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/rathaus-de/rathaus/internal/modroot"
)

// goBuild builds pkg of the module in dir into out, statically
// (CGO_ENABLED=0, as `make build` does), with version stamped into
// rathaus.Version.
func goBuild(ctx context.Context, dir, pkg, out, version string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out,
		"-ldflags", "-X "+modroot.Path+".Version="+version, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false", "GOWORK=off")
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("failed to build %s in %s: %w\n%s", pkg, dir, err, output)
	}
	return nil
}

// git runs git in the module root and returns its trimmed output.
func git(ctx context.Context, root string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(exit.Stderr)))
		}
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

// buildRevision builds ./cmd/rathaus as of the git revision rev into out,
// from a `git archive` of it unpacked in a directory under tmp that is
// removed afterwards: the repository and its worktrees stay untouched. It
// returns the revision's short hash.
func buildRevision(ctx context.Context, root, rev, tmp, out string) (string, error) {
	short, err := git(ctx, root, "rev-parse", "--short", rev+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("failed to resolve -before %q: %w", rev, err)
	}
	src, err := os.MkdirTemp(tmp, "src-"+short+"-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(src)
	tarball := src + ".tar"
	defer os.Remove(tarball)
	if _, err := git(ctx, root, "archive", "--format=tar", "--output="+tarball, short); err != nil {
		return "", err
	}
	if output, err := exec.CommandContext(ctx, "tar", "-xf", tarball, "-C", src).CombinedOutput(); err != nil {
		return "", fmt.Errorf("failed to unpack %s: %w: %s", tarball, err, output)
	}
	if err := goBuild(ctx, src, "./cmd/rathaus", out, short); err != nil {
		return "", err
	}
	return short, nil
}

// describe says which code the working tree holds, for the report.
func describe(ctx context.Context, root string) string {
	d, err := git(ctx, root, "describe", "--always", "--dirty")
	if err != nil {
		return "unknown"
	}
	return d
}
