package cli

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/rathaus-de/rathaus/config"
)

// tokenKeys are the config keys generate-registration fills in itself.
var tokenKeys = map[string]bool{"appservice.as_token": true, "appservice.hs_token": true}

// newToken returns 32 random bytes (256 bits), hex-encoded.
func newToken() (string, error) {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("failed to read random bytes: %w", err)
	}
	return hex.EncodeToString(buf), nil
}

func generateRegistration(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("generate-registration", stderr)
	path := fs.String("c", "", "path to the config file (its tokens are replaced)")
	out := fs.String("o", "registration.yaml", "where to write the registration for the homeserver")
	rotate := fs.Bool("rotate", false, "replace tokens that are already set (backs up the config and the registration first)")
	if !parseFlags(fs, args, stderr) {
		return ExitUsage
	}
	cfg, problems, ok := loadConfig(*path, stderr)
	if !ok {
		return ExitInvalidConfig
	}
	var blocking config.ValidationErrors
	tokensSet := true
	for _, p := range problems {
		if !tokenKeys[p.Key] {
			blocking = append(blocking, p)
		} else {
			tokensSet = false
		}
	}
	if len(blocking) > 0 {
		printProblems(stderr, *path, blocking)
		fmt.Fprintln(stderr, "Fix these first; the registration is built from the config.")
		return ExitInvalidConfig
	}
	_, statErr := os.Stat(*out)
	registered := statErr == nil
	if (tokensSet || registered) && !*rotate {
		// New tokens lock rathaus out of a homeserver that has loaded the
		// current registration, until it loads the new one and restarts.
		what := *path + " already has an as_token and hs_token"
		if !tokensSet {
			what = *out + " already exists"
		}
		fmt.Fprintf(stderr, "rathaus: %s; nothing was changed.\n", what)
		fmt.Fprintln(stderr, "To replace the tokens, run again with -rotate: the config and the registration are backed up first,"+
			" and the homeserver must then load the new registration and restart.")
		return ExitFailure
	}
	var backups []string
	if *rotate {
		for _, file := range []string{*path, *out} {
			backup, err := backUp(file)
			if err != nil {
				fmt.Fprintf(stderr, "rathaus: failed to back up %s: %v; nothing was changed.\n", file, err)
				return ExitFailure
			} else if backup != "" {
				backups = append(backups, backup)
			}
		}
	}
	asToken, err := newToken()
	if err == nil {
		cfg.AppService.HSToken, err = newToken()
	}
	if err != nil {
		fmt.Fprintf(stderr, "rathaus: %v\n", err)
		return ExitFailure
	}
	cfg.AppService.ASToken = asToken
	data, err := yaml.Marshal(cfg.Registration())
	if err != nil {
		fmt.Fprintf(stderr, "rathaus: failed to encode registration: %v\n", err)
		return ExitFailure
	}
	// The config first: if it cannot take the tokens, the registration is
	// still written (mode 0600) and the operator copies them from there;
	// secrets are never printed, since terminals end up in logs.
	tokensErr := config.SetTokens(*path, cfg.AppService.ASToken, cfg.AppService.HSToken)
	if err = writeFileAtomic(*out, data); err != nil {
		fmt.Fprintf(stderr, "rathaus: failed to write %s: %v\n", *out, err)
		return ExitFailure
	}
	fmt.Fprintf(stdout, "Wrote the registration to %s.\n", *out)
	if tokensErr != nil {
		fmt.Fprintf(stderr, "Could not write the new tokens into %s: %v\n", *path, tokensErr)
		fmt.Fprintf(stderr, "Copy as_token and hs_token from %s into appservice.as_token and appservice.hs_token there.\n", *out)
		return ExitFailure
	}
	fmt.Fprintf(stdout, "Stored the new as_token and hs_token in %s.\n", *path)
	for _, b := range backups {
		fmt.Fprintf(stdout, "Kept the previous version as %s.\n", b)
	}
	if *rotate {
		fmt.Fprintln(stdout, "The tokens changed: the homeserver must load the new registration and restart, then restart rathaus;"+
			" until both run with the new tokens, they refuse each other.")
		return ExitOK
	}
	fmt.Fprintln(stdout, "Next: add the registration file to your homeserver's app_service_config_files"+
		" (Synapse) or app_service_api.config_files (Dendrite), restart the homeserver, then start `rathaus run`.")
	return ExitOK
}

// backUp copies a file next to itself as <name>.bak-<time>, mode 0600, and
// returns the copy's path; a file that does not exist needs no backup.
func backUp(path string) (string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	backup := path + ".bak-" + time.Now().UTC().Format("20060102T150405Z")
	if err = os.WriteFile(backup, data, 0o600); err != nil {
		return "", err
	}
	return backup, nil
}

// writeFileAtomic writes data with mode 0600 via a synced temp file, so a
// crash never leaves a half-written registration.
func writeFileAtomic(path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".registration-*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o600); err == nil {
		if _, err = tmp.Write(data); err == nil {
			err = tmp.Sync()
		}
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
