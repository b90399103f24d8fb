package ozg

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/rathaus-de/rathaus/config"
)

// The links of the intake API carry a context that rathaus signs itself:
// the same compact JWS as a service's, with HS256 under a key only
// rathaus knows, kid IntakeKeyID and the request id as jti. The /hilfe
// page and Verifier take it like any other context, so lifetime, origin
// check and single use (the jti bound to the first guest session) are
// the signed link's. The key lives in the database, so links stay valid
// across a restart and across processes on one database.

// IntakeKeyID is the kid of the contexts rathaus signs for the links of
// the intake API. A service id cannot contain ":", so it names no service;
// the context's svc.id names the service.
const IntakeKeyID = "rathaus:intake"

// intakeKeyLength is the length of the signing key rathaus makes.
const intakeKeyLength = 32

// IntakeKeyStore keeps rathaus's key for the contexts of intake links.
// *store.Store implements it.
type IntakeKeyStore interface {
	// IntakeKey is called the first time a process signs or verifies an
	// intake link: it returns the stored key, storing candidate first if
	// no key is stored yet.
	IntakeKey(ctx context.Context, candidate []byte) ([]byte, error)
}

// intakeKey loads the key once per process; it never changes once stored.
type intakeKey struct {
	store IntakeKeyStore

	mu  sync.Mutex
	key []byte
}

func (k *intakeKey) get(ctx context.Context) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.key != nil {
		return k.key, nil
	}
	candidate := make([]byte, intakeKeyLength)
	if _, err := rand.Read(candidate); err != nil {
		return nil, fmt.Errorf("failed to make the intake key: %w", err)
	}
	key, err := k.store.IntakeKey(ctx, candidate)
	if err != nil {
		return nil, err
	} else if len(key) < config.MinHMACSecretLength {
		return nil, fmt.Errorf("the stored intake key has %d bytes, fewer than %d", len(key), config.MinHMACSecretLength)
	}
	k.key = key
	return key, nil
}

// signIntakeContext signs a context of f (HS256, kid IntakeKeyID). The
// same arguments give the same context.
func signIntakeContext(key []byte, f Fields, jti string, iat, exp time.Time) (string, error) {
	svc := map[string]string{"id": f.ServiceID}
	if f.ServiceVersion != "" {
		svc["version"] = f.ServiceVersion
	}
	claims := map[string]any{"svc": svc, "leika": f.Leika, "lang": f.Lang, "trust": f.Trust,
		"iat": iat.Unix(), "exp": exp.Unix(), "jti": jti}
	for name, v := range map[string]string{"ars": f.ARS, "step": f.Step, "err": f.Err, "submission": f.FITConnect.Submission,
		"destination": f.FITConnect.Destination, "case": f.FITConnect.Case} {
		if v != "" {
			claims[name] = v
		}
	}
	enc := func(v any) (string, error) {
		b, err := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b), err
	}
	header, err := enc(map[string]string{"alg": config.AlgHS256, "kid": IntakeKeyID, "typ": "JWT"})
	if err != nil {
		return "", err
	}
	payload, err := enc(claims)
	if err != nil {
		return "", err
	}
	input := header + "." + payload
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(input))
	token := input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	if len(token) > MaxContextLength {
		// The fields' limits keep a context far below this.
		return "", fmt.Errorf("the context is %d bytes, more than %d", len(token), MaxContextLength)
	}
	return token, nil
}
