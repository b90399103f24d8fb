package demo

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/internal/devhs"
)

// account is a user of the demo homeserver that the demo creates, with the
// password kept in the state directory.
type account struct {
	localpart    string
	userID       id.UserID
	password     string
	passwordFile string
}

// demoLocalpart is what the demo accepts as the localpart of an account it
// creates: the localpart names the password file, so no "/" and no leading
// dot.
var demoLocalpart = regexp.MustCompile(`^[a-z0-9_=+-][a-z0-9._=+-]*$`)

// demoAccounts returns the accounts the demo creates, passwords included:
// the printed login first, then every other staff member of the demo server
// in config order. Each password is created on the first run and kept.
func demoAccounts(cfg *config.Config, l layout) ([]account, error) {
	localparts := []string{StaffLocalpart}
	seen := map[string]bool{StaffLocalpart: true}
	var bad []string
	for _, d := range cfg.Departments {
		for _, s := range d.Staff {
			lp := s.User.Localpart()
			if s.User.Homeserver() != cfg.Homeserver.ServerName || seen[lp] {
				continue
			}
			seen[lp] = true
			if !demoLocalpart.MatchString(lp) {
				bad = append(bad, string(s.User))
				continue
			}
			localparts = append(localparts, lp)
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s lists staff the demo cannot create: %s. Use localparts of a-z, 0-9 and . _ = + - (no leading dot)",
			l.config, strings.Join(bad, ", "))
	}
	accounts := make([]account, 0, len(localparts))
	for _, lp := range localparts {
		pw, err := l.accountPassword(lp)
		if err != nil {
			return nil, err
		}
		accounts = append(accounts, account{
			localpart:    lp,
			userID:       id.NewUserID(lp, cfg.Homeserver.ServerName),
			password:     pw,
			passwordFile: l.passwordFile(lp),
		})
	}
	return accounts, nil
}

// foreignStaff returns the staff members of other servers, each once. The
// demo homeserver cannot reach them, so their invitations fail.
func foreignStaff(cfg *config.Config) []id.UserID {
	var out []id.UserID
	seen := map[id.UserID]bool{}
	for _, d := range cfg.Departments {
		for _, s := range d.Staff {
			if s.User.Homeserver() != cfg.Homeserver.ServerName && !seen[s.User] {
				seen[s.User] = true
				out = append(out, s.User)
			}
		}
	}
	return out
}

// ensureAccounts makes sure every account exists and that its password
// logs it in. rathaus invites the staff when it starts, so this runs before.
func ensureAccounts(ctx context.Context, hs *devhs.Server, accounts []account, l layout) error {
	for _, a := range accounts {
		if err := ensureAccount(ctx, hs, a, l); err != nil {
			return err
		}
	}
	return nil
}

// ensureAccount registers the account through shared-secret registration.
// On later runs it is already there ("user in use"), and a login proves
// that the stored password still fits.
func ensureAccount(ctx context.Context, hs *devhs.Server, a account, l layout) error {
	creds, err := hs.RegisterUser(ctx, a.localpart, a.password, false)
	if errors.Is(err, devhs.ErrUserInUse) {
		creds, err = hs.Login(ctx, a.localpart, a.password)
		if err != nil {
			return fmt.Errorf("%s exists, but the password in %s does not log in (%w); delete %s to start over",
				a.userID, a.passwordFile, err, l.dir)
		}
	} else if err != nil {
		return err
	}
	// The check needed a device; do not leave one behind per run.
	if cli, err := hs.Client(creds); err == nil {
		_, _ = cli.Logout(ctx)
	}
	return nil
}
