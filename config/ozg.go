package config

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/rathaus-de/rathaus/protocol"
)

// OZGConfig connects rathaus to the OZG online services that hand a stuck
// citizen over with a signed context or through the intake API, and
// receive status webhooks and send FIT-Connect callbacks (docs/ozg.md).
type OZGConfig struct {
	// DefaultDepartment takes hand-overs whose LeiKa key no department
	// lists in its services; staff see a note. Required once a service is
	// configured.
	DefaultDepartment protocol.DepartmentID `yaml:"default_department"`
	// Services are the online services allowed to hand citizens over.
	Services []OZGServiceConfig `yaml:"services"`
}

// OZGServiceConfig is one online service.
type OZGServiceConfig struct {
	// ID is the service's stable id: the kid of its contexts and the id of
	// their svc claim.
	ID string `yaml:"id"`
	// Name is the service as staff and citizens know it ("Bauantrag online").
	Name string `yaml:"name"`
	// Origins are the origins (scheme://host[:port]) the service's pages
	// are served from; a hand-over whose page came from elsewhere is
	// refused.
	Origins []string `yaml:"origins"`
	// ContextKey verifies the service's contexts.
	ContextKey ContextKeyConfig `yaml:"context_key"`
	// PreviousContextKey is the key being rotated out, or empty: contexts
	// signed with either key are accepted while both are set.
	PreviousContextKey ContextKeyConfig `yaml:"previous_context_key"`
	// FITConnect is the service's FIT-Connect status callbacks.
	FITConnect FITConnectConfig `yaml:"fit_connect"`
	// APIKeys authenticate the service's backend at the intake API;
	// several may be set at once so that a key rotates without downtime.
	APIKeys []OZGAPIKeyConfig `yaml:"api_keys"`
	// Webhook receives the status of the service's cases; optional.
	Webhook OZGWebhookConfig `yaml:"webhook"`
}

// ContextKeyConfig is one verification key; exactly one field is set
// (all empty means "no key", allowed only for previous_context_key).
type ContextKeyConfig struct {
	// Ed25519 is a raw 32-byte public key, standard base64 (alg EdDSA).
	Ed25519 string `yaml:"ed25519"`
	// ES256 is a PEM "PUBLIC KEY" (PKIX) of curve P-256 (alg ES256).
	ES256 string `yaml:"es256"`
	// HMACSecret is a shared secret of at least MinHMACSecretLength bytes
	// (alg HS256).
	HMACSecret string `yaml:"hmac_secret"`
}

// MinHMACSecretLength is the shortest hmac_secret Validate accepts: as
// long as HS256's output, as RFC 7518, section 3.2 requires.
const MinHMACSecretLength = 32

// PlaceholderOZGKey is the Ed25519 key of example-config.yaml. Its private
// half is published in docs/ozg.md, so Validate refuses it.
const PlaceholderOZGKey = "pgOZv21P2P96+17PH0hxNgc93pf5aaBh26cYx13mJFs="

// The JWS "alg" values of the three key types.
const (
	AlgEdDSA = "EdDSA"
	AlgES256 = "ES256"
	AlgHS256 = "HS256"
)

// ContextKey is a parsed verification key: Alg and one of the keys.
type ContextKey struct {
	Alg     string
	Ed25519 ed25519.PublicKey
	ES256   *ecdsa.PublicKey
	HMAC    []byte
}

// errNoKey is returned by Parse for an empty ContextKeyConfig.
var errNoKey = errors.New("no key set; set one of ed25519, es256, hmac_secret")

// IsZero reports whether no key is set.
func (k ContextKeyConfig) IsZero() bool {
	return k.Ed25519 == "" && k.ES256 == "" && k.HMACSecret == ""
}

// Parse parses the key; the error names the problem, never the key.
func (k ContextKeyConfig) Parse() (ContextKey, error) {
	n := 0
	for _, v := range []string{k.Ed25519, k.ES256, k.HMACSecret} {
		if v != "" {
			n++
		}
	}
	switch {
	case n == 0:
		return ContextKey{}, errNoKey
	case n > 1:
		return ContextKey{}, errors.New("set exactly one of ed25519, es256, hmac_secret")
	case k.Ed25519 != "":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(k.Ed25519))
		if err != nil || len(raw) != ed25519.PublicKeySize {
			return ContextKey{}, errors.New("ed25519 must be a 32-byte public key in standard base64")
		}
		return ContextKey{Alg: AlgEdDSA, Ed25519: ed25519.PublicKey(raw)}, nil
	case k.ES256 != "":
		block, _ := pem.Decode([]byte(k.ES256))
		if block == nil || block.Type != "PUBLIC KEY" {
			return ContextKey{}, errors.New("es256 must be a PEM block \"PUBLIC KEY\"")
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		ec, ok := pub.(*ecdsa.PublicKey)
		if err != nil || !ok || ec.Curve != elliptic.P256() {
			return ContextKey{}, errors.New("es256 must be a public key of curve P-256")
		}
		return ContextKey{Alg: AlgES256, ES256: ec}, nil
	default:
		if len(k.HMACSecret) < MinHMACSecretLength {
			return ContextKey{}, fmt.Errorf("hmac_secret must be at least %d bytes (is %d)", MinHMACSecretLength, len(k.HMACSecret))
		}
		return ContextKey{Alg: AlgHS256, HMAC: []byte(k.HMACSecret)}, nil
	}
}

// Keys returns the service's parsed keys, current first; invalid ones
// (Validate reports them) are left out.
func (s *OZGServiceConfig) Keys() []ContextKey {
	var keys []ContextKey
	for _, k := range []ContextKeyConfig{s.ContextKey, s.PreviousContextKey} {
		if pk, err := k.Parse(); err == nil {
			keys = append(keys, pk)
		}
	}
	return keys
}

// OZGService returns the configured online service with the id, or nil.
func (c *Config) OZGService(serviceID string) *OZGServiceConfig {
	for i := range c.OZG.Services {
		if c.OZG.Services[i].ID == serviceID {
			return &c.OZG.Services[i]
		}
	}
	return nil
}

var ozgServiceIDRegex = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// maxOZGServiceName bounds a service's name (it is shown in headings).
const maxOZGServiceName = 80

func (c *Config) validateOZG(errs *ValidationErrors) {
	o := &c.OZG
	if o.DefaultDepartment == "" {
		if len(o.Services) > 0 {
			errs.add("ozg.default_department", "required when ozg.services is set: the department that takes hand-overs whose LeiKa key no department lists")
		}
	} else if c.Department(o.DefaultDepartment) == nil {
		errs.add("ozg.default_department", fmt.Sprintf("%q is not the id of a configured department", o.DefaultDepartment))
	}
	seen := map[string]bool{}
	for i := range o.Services {
		s := &o.Services[i]
		key := fmt.Sprintf("ozg.services[%d]", i)
		switch {
		case !ozgServiceIDRegex.MatchString(s.ID):
			errs.add(key+".id", fmt.Sprintf("%q must be 1–32 of a-z, 0-9 and \"-\", starting with a letter or digit", s.ID))
		case seen[s.ID]:
			errs.add(key+".id", fmt.Sprintf("%q is used by another service", s.ID))
		}
		seen[s.ID] = true
		if name := strings.TrimSpace(s.Name); name == "" {
			errs.add(key+".name", "required; the service as citizens know it, e.g. Bauantrag online")
		} else if n := utf8.RuneCountInString(s.Name); n > maxOZGServiceName {
			errs.add(key+".name", fmt.Sprintf("is %d characters; at most %d", n, maxOZGServiceName))
		}
		if len(s.Origins) == 0 {
			errs.add(key+".origins", "required; the origin(s) the online service's pages are served from, e.g. https://portal.stadt.de")
		}
		for j, o := range s.Origins {
			okey := fmt.Sprintf("%s.origins[%d]", key, j)
			u, msg := checkHTTPURL(o)
			switch {
			case msg != "":
				errs.add(okey, msg)
			case u.Path != "" || strings.HasSuffix(o, "/"):
				errs.add(okey, fmt.Sprintf("%q must be an origin without a path, e.g. %s://%s", o, u.Scheme, u.Host))
			case isExampleHost(u.Hostname()):
				errs.add(okey, fmt.Sprintf("still the placeholder host %q; set your online service's origin", u.Hostname()))
			case u.Scheme == "http" && !IsLoopbackHost(u.Hostname()):
				errs.add(okey, fmt.Sprintf("%q must be https:// (http:// only for a loopback host)", o))
			}
		}
		if _, err := s.ContextKey.Parse(); err != nil {
			errs.add(key+".context_key", err.Error())
		} else if s.ContextKey.Ed25519 == PlaceholderOZGKey {
			errs.add(key+".context_key.ed25519", "still the example key, whose private half is published; set your online service's public key")
		}
		if !s.PreviousContextKey.IsZero() {
			if _, err := s.PreviousContextKey.Parse(); err != nil {
				errs.add(key+".previous_context_key", err.Error())
			} else if s.PreviousContextKey == s.ContextKey {
				errs.add(key+".previous_context_key", "is the same as context_key; remove it")
			}
		}
		s.Webhook.validate(key, errs)
	}
	c.validateFITConnect(errs)
	c.validateOZGAPIKeys(errs)
}
