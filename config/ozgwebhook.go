package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// OZGWebhookConfig is where rathaus reports the status of a service's
// cases (docs/ozg.md, "Status webhooks"). An empty URL means no webhooks.
type OZGWebhookConfig struct {
	// URL receives a signed POST for every status change of a case that
	// came from the service.
	URL string `yaml:"url"`
	// Secret signs the webhooks (HMAC-SHA256), at least
	// MinWebhookSecretLength bytes.
	Secret string `yaml:"secret"`
	// PreviousSecret is the secret being rotated out, or "": while it is
	// set every webhook carries two signatures, one per secret.
	PreviousSecret string `yaml:"previous_secret"`
	// AllowPrivate lets the webhook reach a loopback, private or
	// link-local address (a receiver inside the authority's network,
	// and tests). Without it such targets are refused at every attempt.
	AllowPrivate bool `yaml:"allow_private"`
}

// MinWebhookSecretLength is the shortest webhook secret Validate accepts
// (outbox/webhook.MinSecretLength).
const MinWebhookSecretLength = 32

// PlaceholderWebhookSecret is the secret of the receiver example in
// docs/ozg.md; it is published, so Validate refuses it.
const PlaceholderWebhookSecret = "whsec-example-do-not-use-0123456789abcdef"

// Enabled reports whether the service gets webhooks.
func (w *OZGWebhookConfig) Enabled() bool { return w.URL != "" }

// Secrets returns the secrets to sign with, current first.
func (w *OZGWebhookConfig) Secrets() [][]byte {
	s := [][]byte{[]byte(w.Secret)}
	if w.PreviousSecret != "" {
		s = append(s, []byte(w.PreviousSecret))
	}
	return s
}

// validate checks the webhook of the service at key (ozg.services[i]).
func (w *OZGWebhookConfig) validate(key string, errs *ValidationErrors) {
	key += ".webhook"
	if w.URL == "" {
		if w.Secret != "" || w.PreviousSecret != "" || w.AllowPrivate {
			errs.add(key+".url", "required when the webhook's other keys are set; or remove them")
		}
		return
	}
	u, msg := checkHTTPURL(w.URL)
	switch {
	case msg != "":
		errs.add(key+".url", msg)
	case isExampleHost(u.Hostname()):
		errs.add(key+".url", fmt.Sprintf("still the placeholder host %q; set your online service's receiver", u.Hostname()))
	case u.Scheme == "http" && !IsLoopbackHost(u.Hostname()):
		errs.add(key+".url", fmt.Sprintf("%q must be https:// (http:// only for a loopback host)", w.URL))
	case isPrivateHost(u.Hostname()) && !w.AllowPrivate:
		errs.add(key+".url", fmt.Sprintf("%q is a loopback or private address, refused unless allow_private is true", u.Hostname()))
	}
	for _, s := range []struct{ name, value string }{{"secret", w.Secret}, {"previous_secret", w.PreviousSecret}} {
		switch {
		case s.value == "" && s.name == "previous_secret":
		case s.value == PlaceholderWebhookSecret:
			errs.add(key+"."+s.name, "still the published example secret of docs/ozg.md; generate one, e.g. openssl rand -hex 32")
		case len(s.value) < MinWebhookSecretLength:
			errs.add(key+"."+s.name, fmt.Sprintf("must be at least %d bytes (is %d); e.g. openssl rand -hex 32", MinWebhookSecretLength, len(s.value)))
		}
	}
	if w.PreviousSecret != "" && w.PreviousSecret == w.Secret {
		errs.add(key+".previous_secret", "is the same as secret; remove it")
	}
}

// isPrivateHost reports whether host is localhost or a literal address
// that the webhook client refuses by default. Names are resolved only when
// sending; the client checks the address it connects to.
func isPrivateHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified())
}
