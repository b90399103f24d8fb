package config

import (
	"fmt"
	"strings"
	"unicode"
)

// FITConnectConfig is an online service's FIT-Connect status callbacks
// (docs/ozg.md, "FIT-Connect status callbacks"): the shared secret its
// callbacks are signed with. In FIT-Connect a callback secret is set
// together with the callback URL by whoever registers that URL; the
// callbacks that move a case here report the submission an online service
// made, so the secret belongs to that service: a callback signed with it
// may change the cases of this service and of no other.
type FITConnectConfig struct {
	// CallbackSecret is the secret (FIT-Connect's callbackSecret) the
	// callbacks for this service are signed with; "" turns its callbacks
	// off.
	CallbackSecret string `yaml:"callback_secret"`
	// PreviousCallbackSecret is the secret being rotated out, or "": while
	// it is set, callbacks signed with either secret are accepted.
	PreviousCallbackSecret string `yaml:"previous_callback_secret"`
}

// MinCallbackSecretLength is the shortest callback secret Validate accepts,
// as FIT-Connect requires of callbackSecret.
const MinCallbackSecretLength = 32

// maxCallbackSecretLength bounds a callback secret (FIT-Connect allows 512).
const maxCallbackSecretLength = 512

// exampleSecretPrefix starts the example secrets of FIT-Connect's
// documentation ("insecure_unsafe_…"): published, so refused.
const exampleSecretPrefix = "insecure_unsafe_"

// CallbackSecrets returns the secrets callbacks for the service may be
// signed with, current first; none if callbacks are off.
func (f FITConnectConfig) CallbackSecrets() [][]byte {
	var out [][]byte
	for _, s := range []string{f.CallbackSecret, f.PreviousCallbackSecret} {
		if s != "" {
			out = append(out, []byte(s))
		}
	}
	return out
}

// validateFITConnect checks every service's callback secrets; key is
// "ozg.services".
func (c *Config) validateFITConnect(errs *ValidationErrors) {
	owner := map[string]string{}
	for i := range c.OZG.Services {
		s := &c.OZG.Services[i]
		key := fmt.Sprintf("ozg.services[%d].fit_connect", i)
		f := s.FITConnect
		if f.CallbackSecret == "" && f.PreviousCallbackSecret != "" {
			errs.add(key+".callback_secret", "required while previous_callback_secret is set: the secret callbacks are signed with now")
		}
		if f.PreviousCallbackSecret != "" && f.PreviousCallbackSecret == f.CallbackSecret {
			errs.add(key+".previous_callback_secret", "is the same as callback_secret; remove it")
		}
		for _, kv := range [][2]string{{"callback_secret", f.CallbackSecret}, {"previous_callback_secret", f.PreviousCallbackSecret}} {
			name, secret := kv[0], kv[1]
			if secret == "" {
				continue
			}
			if msg := callbackSecretProblem(secret); msg != "" {
				errs.add(key+"."+name, msg)
				continue
			}
			if other, ok := owner[secret]; ok && other != s.ID {
				errs.add(key+"."+name, fmt.Sprintf("is also a callback secret of service %q; each service needs its own", other))
			}
			owner[secret] = s.ID
		}
	}
}

// callbackSecretProblem says what is wrong with a callback secret, never
// the secret itself; "" if nothing.
func callbackSecretProblem(secret string) string {
	switch {
	case len(secret) < MinCallbackSecretLength:
		return fmt.Sprintf("must be at least %d characters (is %d), as FIT-Connect requires", MinCallbackSecretLength, len(secret))
	case len(secret) > maxCallbackSecretLength:
		return fmt.Sprintf("must be at most %d characters (is %d)", maxCallbackSecretLength, len(secret))
	case strings.HasPrefix(secret, exampleSecretPrefix):
		return "is an example secret from FIT-Connect's documentation, which is published; generate your own"
	case strings.IndexFunc(secret, func(r rune) bool { return r > unicode.MaxASCII || !unicode.IsPrint(r) || r == ' ' }) >= 0:
		return "must be printable ASCII without spaces"
	case strings.Trim(secret, secret[:1]) == "":
		return "is one character repeated; generate a random secret"
	}
	return ""
}
