// Package ozgtest signs hand-over contexts the way an online service
// does, for tests of the hand-over (docs/ozg.md). It is imported by tests
// only.
package ozgtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rathaus-de/rathaus/config"
)

// Service is a test online service with an Ed25519 key.
type Service struct {
	ID, Name string
	Origins  []string
	key      ed25519.PrivateKey
}

// NewService makes a service with a fresh key.
func NewService(serviceID, name string, origins ...string) *Service {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return &Service{ID: serviceID, Name: name, Origins: origins, key: key}
}

// Config is the service's entry for ozg.services.
func (s *Service) Config() config.OZGServiceConfig {
	return config.OZGServiceConfig{ID: s.ID, Name: s.Name, Origins: s.Origins,
		ContextKey: config.ContextKeyConfig{Ed25519: base64.StdEncoding.EncodeToString(s.key.Public().(ed25519.PublicKey))}}
}

// Claims are a context's claims; Sign adds svc, iat, exp and a jti where
// they are missing.
type Claims map[string]any

// Sign returns a compact JWS (alg EdDSA, kid the service id) of claims.
func (s *Service) Sign(claims Claims) string {
	c := Claims{}
	for k, v := range claims {
		c[k] = v
	}
	now := time.Now()
	defaults := Claims{"svc": map[string]string{"id": s.ID, "version": "1.0"}, "iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(), "jti": randomJTI()}
	for k, v := range defaults {
		if _, ok := c[k]; !ok {
			c[k] = v
		}
	}
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(map[string]string{"alg": "EdDSA", "kid": s.ID, "typ": "JWT"}) + "." + enc(c)
	return input + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(s.key, []byte(input)))
}

func randomJTI() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return fmt.Sprintf("%x", b)
}
