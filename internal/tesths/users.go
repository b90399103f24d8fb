package tesths

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// UserID returns the user id of localpart on this homeserver.
func (hs *Homeserver) UserID(localpart string) id.UserID {
	return id.NewUserID(localpart, hs.ServerName)
}

// RegisterUser creates a user with a random password through shared-secret
// registration (/_synapse/admin/v1/register) and returns a client logged in
// as that user.
func (hs *Homeserver) RegisterUser(tb testing.TB, localpart string, admin bool) (*mautrix.Client, id.UserID, string) {
	tb.Helper()
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		tb.Fatalf("tesths: failed to generate password: %v", err)
	}
	password := hex.EncodeToString(raw)
	srv := hs.server(tb)
	creds, err := srv.RegisterUser(tb.Context(), localpart, password, admin)
	if err != nil {
		tb.Fatalf("tesths: %v", err)
	}
	cli, err := srv.Client(creds)
	if err != nil {
		tb.Fatalf("tesths: %v", err)
	}
	return cli, creds.UserID, password
}

// Login logs localpart in with a password and returns a client with a new
// device.
func (hs *Homeserver) Login(tb testing.TB, localpart, password string) *mautrix.Client {
	tb.Helper()
	srv := hs.server(tb)
	creds, err := srv.Login(tb.Context(), localpart, password)
	if err != nil {
		tb.Fatalf("tesths: %v", err)
	}
	cli, err := srv.Client(creds)
	if err != nil {
		tb.Fatalf("tesths: %v", err)
	}
	return cli
}

// Certificate is the homeserver's self-signed TLS certificate (of its
// federation listener), for clients that must verify it, such as the
// OpenID check (openid.Options.ExtraRootCAs).
func (hs *Homeserver) Certificate(tb testing.TB) *x509.Certificate {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(hs.Dir, "tls.crt"))
	if err != nil {
		tb.Fatalf("tesths: %v", err)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		tb.Fatalf("tesths: no PEM in %s/tls.crt", hs.Dir)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		tb.Fatalf("tesths: %v", err)
	}
	return cert
}
