package devhs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
)

// SynapseDatabase is the name of Synapse's SQLite database in a state
// directory.
const SynapseDatabase = "homeserver.db"

// prepareSynapse writes homeserver.yaml, copies opts.DatabaseTemplate into
// a directory without a database, and returns how to run Synapse.
func prepareSynapse(opts Options, files stateFiles, asFiles []string) (ProcessOptions, error) {
	cfg, err := synapseConfig(files, opts, asFiles)
	if err != nil {
		return ProcessOptions{}, fmt.Errorf("failed to configure Synapse's listeners: %w", err)
	}
	if err := writeConfig(files.config, cfg); err != nil {
		return ProcessOptions{}, err
	}
	if opts.DatabaseTemplate != "" {
		if _, err := os.Stat(files.database); errors.Is(err, fs.ErrNotExist) {
			if err := copyFile(opts.DatabaseTemplate, files.database); err != nil {
				return ProcessOptions{}, fmt.Errorf("failed to copy the Synapse database template: %w", err)
			}
		} else if err != nil {
			return ProcessOptions{}, fmt.Errorf("failed to check the Synapse database: %w", err)
		}
	}
	return ProcessOptions{
		Name: "synapse",
		Path: opts.Binary,
		Args: []string{"-m", "synapse.app.homeserver", "--config-path", files.config},
	}, nil
}

// MigrateSynapseDatabase creates a Synapse SQLite database at dest with the
// whole schema applied and every background update run, using Synapse's own
// update_synapse_database script and python, a venv's interpreter with
// Synapse installed. It holds no users or rooms, so any server name may
// start on a copy of it (Options.DatabaseTemplate): a fresh database would
// otherwise apply the schema deltas on the first start and run some fifty
// background updates, one a second, while the test runs. dest is written
// under a temporary name and renamed.
func MigrateSynapseDatabase(ctx context.Context, python, dest string) error {
	dir, err := os.MkdirTemp("", "devhs-synapse-template-")
	if err != nil {
		return fmt.Errorf("failed to create a directory for the Synapse template: %w", err)
	}
	defer os.RemoveAll(dir)
	files := newStateFiles(dir, Synapse)
	// The script reads the whole configuration but opens no listener.
	opts := Options{Kind: Synapse, ServerName: "127.0.0.1:1", ClientAddr: "127.0.0.1:1", FederationAddr: "127.0.0.1:2"}
	if _, err := files.prepare(opts.ServerName, ""); err != nil {
		return err
	}
	cfg, err := synapseConfig(files, opts, nil)
	if err != nil {
		return err
	}
	if err := writeConfig(files.config, cfg); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, python, "-m", "synapse._scripts.update_synapse_database",
		"--database-config", files.config, "--run-background-updates")
	cmd.Dir = dir
	cmd.Env = homeserverEnv()
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("failed to migrate a Synapse database: %w\n%s", err, tail(out.String(), startErrLogLines))
	}
	// SQLite removes the write-ahead log when the last connection closes
	// cleanly; one left over would hold part of the schema.
	if _, err := os.Stat(files.database + "-wal"); err == nil {
		return fmt.Errorf("failed to migrate a Synapse database: %s-wal was left behind", files.database)
	}
	tmp := fmt.Sprintf("%s.tmp-%d", dest, os.Getpid())
	defer os.Remove(tmp)
	if err := copyFile(files.database, tmp); err != nil {
		return fmt.Errorf("failed to copy the migrated Synapse database: %w", err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		return fmt.Errorf("failed to move the migrated Synapse database into place: %w", err)
	}
	return nil
}

// copyFile copies src to dst, which must not exist yet, and syncs it.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(filepath.Clean(dst), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
