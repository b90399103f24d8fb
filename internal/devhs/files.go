package devhs

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// stateFiles are the paths inside a state directory (see the package
// documentation).
type stateFiles struct {
	dir          string
	config       string
	serverName   string
	sharedSecret string
	signingKey   string
	tlsCert      string
	tlsKey       string
	logDir       string // Dendrite's file log hook writes dendrite.log here
	console      string // stdout and stderr of the process
	database     string // Synapse's SQLite database
	media        string // Synapse's media store

	kind Kind
}

func newStateFiles(dir string, kind Kind) stateFiles {
	f := stateFiles{
		dir:          dir,
		config:       filepath.Join(dir, "dendrite.yaml"),
		serverName:   filepath.Join(dir, "server_name"),
		sharedSecret: filepath.Join(dir, "shared_secret"),
		signingKey:   filepath.Join(dir, "matrix_key.pem"),
		tlsCert:      filepath.Join(dir, "tls.crt"),
		tlsKey:       filepath.Join(dir, "tls.key"),
		logDir:       filepath.Join(dir, "logs"),
		console:      filepath.Join(dir, "logs", "console.log"),
		database:     filepath.Join(dir, SynapseDatabase),
		media:        filepath.Join(dir, "media_store"),
		kind:         kind,
	}
	if kind == Synapse {
		f.config = filepath.Join(dir, "homeserver.yaml")
		f.signingKey = filepath.Join(dir, "signing.key")
	}
	return f
}

// prepare creates the directory and whatever of its identity is missing
// (server name record, shared secret, signing key, TLS certificate) and
// returns the shared secret to use.
func (f stateFiles) prepare(serverName, sharedSecret string) (string, error) {
	if err := os.MkdirAll(f.logDir, 0o700); err != nil {
		return "", fmt.Errorf("failed to create state directory: %w", err)
	}
	if err := f.claimServerName(serverName); err != nil {
		return "", err
	}
	secret, err := f.loadSharedSecret(sharedSecret)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(f.signingKey); errors.Is(err, fs.ErrNotExist) {
		write := writeSigningKey
		if f.kind == Synapse {
			write = writeSynapseSigningKey
		}
		if err := write(f.signingKey); err != nil {
			return "", err
		}
	} else if err != nil {
		return "", fmt.Errorf("failed to check signing key: %w", err)
	}
	if !certUsable(f.tlsCert, f.tlsKey) {
		if err := writeTLSCert(f.tlsCert, f.tlsKey); err != nil {
			return "", err
		}
	}
	return secret, nil
}

// claimServerName records serverName in a new directory, or checks that an
// existing directory was made for it.
func (f stateFiles) claimServerName(serverName string) error {
	data, err := os.ReadFile(f.serverName)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.WriteFile(f.serverName, []byte(serverName+"\n"), 0o600); err != nil {
			return fmt.Errorf("failed to record server name: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("failed to read recorded server name: %w", err)
	}
	if old := strings.TrimSpace(string(data)); old != serverName {
		return fmt.Errorf("%w: %s holds data of %q, not %q", ErrServerNameChanged, f.dir, old, serverName)
	}
	return nil
}

// loadSharedSecret returns secret if it is set (and records it), else the
// recorded secret, else a new random one that it records.
func (f stateFiles) loadSharedSecret(secret string) (string, error) {
	if secret == "" {
		data, err := os.ReadFile(f.sharedSecret)
		if err == nil && strings.TrimSpace(string(data)) != "" {
			return strings.TrimSpace(string(data)), nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("failed to read shared secret: %w", err)
		}
		raw := make([]byte, 24)
		if _, err := rand.Read(raw); err != nil {
			return "", fmt.Errorf("failed to generate shared secret: %w", err)
		}
		secret = hex.EncodeToString(raw)
	}
	if err := os.WriteFile(f.sharedSecret, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("failed to write shared secret: %w", err)
	}
	return secret, nil
}
