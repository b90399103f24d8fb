package demo

import (
	"context"
	"errors"
	"fmt"

	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/internal/devhs"
)

// ensureStaff makes sure the staff account exists and that password logs
// it in. On later runs the account is already there ("user in use"), and
// the login proves the stored password still fits.
func ensureStaff(ctx context.Context, hs *devhs.Server, password string, l layout) (id.UserID, error) {
	creds, err := hs.RegisterUser(ctx, StaffLocalpart, password, false)
	if errors.Is(err, devhs.ErrUserInUse) {
		creds, err = hs.Login(ctx, StaffLocalpart, password)
		if err != nil {
			return "", fmt.Errorf("%s exists, but the password in %s does not log in (%v); delete %s to start over",
				hs.UserID(StaffLocalpart), l.password, err, l.dir)
		}
	} else if err != nil {
		return "", err
	}
	// The check needed a device; do not leave one behind per run.
	if cli, err := hs.Client(creds); err == nil {
		_, _ = cli.Logout(ctx)
	}
	return creds.UserID, nil
}
