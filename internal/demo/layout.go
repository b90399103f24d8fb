package demo

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// layout are the paths inside the state directory.
type layout struct {
	dir          string // absolute
	lock         string // held while a demo runs on the directory
	config       string // rathaus config.yaml, written on the first run
	registration string // appservice registration, written on the first run
	password     string // the main staff login's password (passwordFile(StaffLocalpart))
	rathausLog   string
	dendriteDir  string // internal/devhs state directory
}

func newLayout(dir string) (layout, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return layout{}, fmt.Errorf("failed to resolve state directory: %w", err)
	}
	return layout{
		dir:          abs,
		lock:         filepath.Join(abs, "demo.lock"),
		config:       filepath.Join(abs, "config.yaml"),
		registration: filepath.Join(abs, "registration.yaml"),
		password:     filepath.Join(abs, StaffLocalpart+passwordSuffix),
		rathausLog:   filepath.Join(abs, "rathaus.log"),
		dendriteDir:  filepath.Join(abs, "dendrite"),
	}, nil
}

// lockDir creates the directory and takes its lock, so that two demos never
// share one. The lock goes with the process, however it ends.
func (l layout) lockDir() (unlock func(), err error) {
	if err := os.MkdirAll(l.dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create state directory: %w", err)
	}
	f, err := os.OpenFile(l.lock, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("failed to open %s: %w", l.lock, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("state directory %s: %w by another rathaus demo; stop it or set %s", l.dir, ErrBusy, EnvDir)
		}
		return nil, fmt.Errorf("failed to lock %s: %w", l.lock, err)
	}
	return func() { f.Close() }, nil
}

// passwordAlphabet leaves out characters that are easy to confuse (0/o,
// 1/l), since people type this password into a client.
const passwordAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"

// newPassword returns 20 random characters (100 bits) in groups of five.
func newPassword() (string, error) {
	raw := make([]byte, 20)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("failed to generate password: %w", err)
	}
	var b strings.Builder
	for i, r := range raw {
		if i > 0 && i%5 == 0 {
			b.WriteByte('-')
		}
		// 256 is a multiple of 32: no modulo bias.
		b.WriteByte(passwordAlphabet[int(r)%len(passwordAlphabet)])
	}
	return b.String(), nil
}

// passwordSuffix follows the localpart in the name of an account's
// password file.
const passwordSuffix = ".password"

// passwordFile is where the password of the account localpart is kept.
// Callers pass localparts that checkAccountLocalpart accepted, so the name
// stays inside the directory.
func (l layout) passwordFile(localpart string) string {
	return filepath.Join(l.dir, localpart+passwordSuffix)
}

// accountPassword returns the password of the account localpart kept in the
// directory, creating it on the first run. It is written before the account
// is registered, so a crash in between cannot leave an account with an
// unknown password.
func (l layout) accountPassword(localpart string) (string, error) {
	path := l.passwordFile(localpart)
	data, err := os.ReadFile(path)
	if err == nil {
		if pw := strings.TrimSpace(string(data)); pw != "" {
			return pw, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("failed to read the password of %s: %w", localpart, err)
	}
	pw, err := newPassword()
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(pw+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("failed to store the password of %s: %w", localpart, err)
	}
	return pw, nil
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
