package devhs

import (
	"context"
	"errors"
	"fmt"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/synapseadmin"
)

// Credentials are what a registration or a login hands out.
type Credentials struct {
	UserID      id.UserID
	AccessToken string
	DeviceID    id.DeviceID
}

// Client returns a mautrix client for creds on this server.
func (s *Server) Client(creds Credentials) (*mautrix.Client, error) {
	cli, err := mautrix.NewClient(s.URL, creds.UserID, creds.AccessToken)
	if err != nil {
		return nil, fmt.Errorf("failed to create client: %w", err)
	}
	cli.DeviceID = creds.DeviceID
	return cli, nil
}

// UserID returns the user ID of localpart on this server.
func (s *Server) UserID(localpart string) id.UserID {
	return id.NewUserID(localpart, s.ServerName)
}

// RegisterUser creates a user through shared-secret registration
// (/_synapse/admin/v1/register), with a first device. If the localpart is
// taken it returns an error wrapping ErrUserInUse.
func (s *Server) RegisterUser(ctx context.Context, localpart, password string, admin bool) (Credentials, error) {
	anon, err := mautrix.NewClient(s.URL, "", "")
	if err != nil {
		return Credentials{}, fmt.Errorf("failed to create client: %w", err)
	}
	resp, err := (&synapseadmin.Client{Client: anon}).SharedSecretRegister(ctx, s.SharedSecret, synapseadmin.ReqSharedSecretRegister{
		Username: localpart,
		Password: password,
		Admin:    admin,
	})
	if errors.Is(err, mautrix.MUserInUse) {
		return Credentials{}, fmt.Errorf("failed to register %s on %s: %w", localpart, s.ServerName, ErrUserInUse)
	}
	if err != nil {
		return Credentials{}, fmt.Errorf("failed to register %s on %s: %w", localpart, s.ServerName, err)
	}
	return Credentials{UserID: resp.UserID, AccessToken: resp.AccessToken, DeviceID: resp.DeviceID}, nil
}

// Login logs localpart in with a password, which creates a new device.
func (s *Server) Login(ctx context.Context, localpart, password string) (Credentials, error) {
	cli, err := mautrix.NewClient(s.URL, "", "")
	if err != nil {
		return Credentials{}, fmt.Errorf("failed to create client: %w", err)
	}
	resp, err := cli.Login(ctx, &mautrix.ReqLogin{
		Type:       mautrix.AuthTypePassword,
		Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: localpart},
		Password:   password,
	})
	if err != nil {
		return Credentials{}, fmt.Errorf("failed to log %s in on %s: %w", localpart, s.ServerName, err)
	}
	return Credentials{UserID: resp.UserID, AccessToken: resp.AccessToken, DeviceID: resp.DeviceID}, nil
}
