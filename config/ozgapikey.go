package config

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"regexp"
)

// OZGAPIKeyConfig is one API key of an online service's backend for the
// intake API (docs/ozg.md, "Intake API"). rathaus stores only the key's
// SHA-256, so the config file holds nothing that could call the API.
type OZGAPIKeyConfig struct {
	// ID names the key in logs and in rotation ("2026-11"); it is not
	// secret.
	ID string `yaml:"id"`
	// SHA256 is the lower-case hex SHA-256 of the whole key, prefix
	// included (`rathaus ozg-key` prints it).
	SHA256 string `yaml:"sha256"`
}

// PlaceholderOZGAPIKey is the API key of the curl example in docs/ozg.md
// and of the commented example in example-config.yaml. It is published,
// so Validate refuses its hash.
const PlaceholderOZGAPIKey = "rh_q8Yp2v0Wm7bN4xT1cK9sE3fL6hJ5gR0dA2uZ8iO4wVe"

var (
	apiKeyIDRegex   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,32}$`)
	apiKeyHashRegex = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// HashAPIKey is the hex SHA-256 of an API key, as api_keys[].sha256 holds
// it. A plain hash suffices: keys are 32 random bytes, so there is
// nothing to guess that a slow hash would protect.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// OZGServiceByAPIKey finds the service and the id of the API key whose
// hash is the key's. Every configured hash is compared in constant time,
// so the time taken says nothing about how close a guess came; nil if
// no service has the key.
func (c *Config) OZGServiceByAPIKey(key string) (svc *OZGServiceConfig, keyID string) {
	sum := sha256.Sum256([]byte(key))
	for i := range c.OZG.Services {
		for _, k := range c.OZG.Services[i].APIKeys {
			want, err := hex.DecodeString(k.SHA256)
			if err == nil && subtle.ConstantTimeCompare(sum[:], want) == 1 && svc == nil {
				svc, keyID = &c.OZG.Services[i], k.ID
			}
		}
	}
	return svc, keyID
}

// validateOZGAPIKeys checks ozg.services[].api_keys: ids unique per
// service, hashes of the right form, no hash twice (a key belongs to one
// service, so that it cannot act for another), and not the published
// example key.
func (c *Config) validateOZGAPIKeys(errs *ValidationErrors) {
	owner := map[string]string{}
	for i, s := range c.OZG.Services {
		ids := map[string]bool{}
		for j, k := range s.APIKeys {
			key := fmt.Sprintf("ozg.services[%d].api_keys[%d]", i, j)
			switch {
			case !apiKeyIDRegex.MatchString(k.ID):
				errs.add(key+".id", fmt.Sprintf("%q must be 1–32 of A-Z, a-z, 0-9, \".\", \"_\" and \"-\"", k.ID))
			case ids[k.ID]:
				errs.add(key+".id", fmt.Sprintf("%q is used by another key of this service", k.ID))
			}
			ids[k.ID] = true
			switch {
			case !apiKeyHashRegex.MatchString(k.SHA256):
				errs.add(key+".sha256", "must be 64 lower-case hex digits, the SHA-256 that `rathaus ozg-key` prints (never the key itself)")
			case k.SHA256 == HashAPIKey(PlaceholderOZGAPIKey):
				errs.add(key+".sha256", "still the example key, which is published; make a key with `rathaus ozg-key`")
			case owner[k.SHA256] != "":
				errs.add(key+".sha256", fmt.Sprintf("the same key is already %s; a key belongs to one service", owner[k.SHA256]))
			default:
				owner[k.SHA256] = key
			}
		}
	}
}

// ValidOZGServiceID reports whether id is a valid ozg.services[].id.
func ValidOZGServiceID(id string) bool { return ozgServiceIDRegex.MatchString(id) }

// ValidOZGAPIKeyID reports whether id is a valid api_keys[].id.
func ValidOZGAPIKeyID(id string) bool { return apiKeyIDRegex.MatchString(id) }
