package tesths

import (
	"crypto/rand"
	"encoding/hex"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/synapseadmin"
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

	anon, err := mautrix.NewClient(hs.URL, "", "")
	if err != nil {
		tb.Fatalf("tesths: failed to create client: %v", err)
	}
	admCli := synapseadmin.Client{Client: anon}
	resp, err := admCli.SharedSecretRegister(tb.Context(), hs.SharedSecret, synapseadmin.ReqSharedSecretRegister{
		Username: localpart,
		Password: password,
		Admin:    admin,
	})
	if err != nil {
		tb.Fatalf("tesths: failed to register %s on %s: %v", localpart, hs.ServerName, err)
	}
	cli, err := mautrix.NewClient(hs.URL, resp.UserID, resp.AccessToken)
	if err != nil {
		tb.Fatalf("tesths: failed to create client: %v", err)
	}
	cli.DeviceID = resp.DeviceID
	return cli, resp.UserID, password
}

// Login logs localpart in with a password and returns a client with a new
// device.
func (hs *Homeserver) Login(tb testing.TB, localpart, password string) *mautrix.Client {
	tb.Helper()
	cli, err := mautrix.NewClient(hs.URL, "", "")
	if err != nil {
		tb.Fatalf("tesths: failed to create client: %v", err)
	}
	_, err = cli.Login(tb.Context(), &mautrix.ReqLogin{
		Type:             mautrix.AuthTypePassword,
		Identifier:       mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: localpart},
		Password:         password,
		StoreCredentials: true,
	})
	if err != nil {
		tb.Fatalf("tesths: failed to log %s in on %s: %v", localpart, hs.ServerName, err)
	}
	return cli
}
