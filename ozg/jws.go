package ozg

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/rathaus-de/rathaus/config"
)

// A compact JWS (RFC 7515, section 7.1) verifier for the three algorithms
// a service key can have: EdDSA with Ed25519 (RFC 8037), ES256 (ECDSA
// P-256 with SHA-256, the signature as r||s, RFC 7518 section 3.4) and
// HS256. It is small enough that a JOSE library would add more surface
// than it saves; the standard library does the cryptography.

// MaxContextLength bounds the whole compact JWS. The claims are a few
// short fields; anything longer is not a context of this format (and
// might carry form contents, which rathaus must never receive).
const MaxContextLength = 2048

// header is what rathaus reads of the protected header. A header with
// "crit" (extensions the verifier must understand) is refused: rathaus
// knows none (RFC 7515, section 4.1.11). "typ" and others are ignored.
type header struct {
	Alg string
	// Kid is the service id.
	Kid string
}

// jws is a compact JWS split into its parts, signature not yet checked.
type jws struct {
	header    header
	claims    []byte
	signed    []byte // ASCII(BASE64URL(header) "." BASE64URL(payload))
	signature []byte
}

// parseJWS splits and decodes a compact JWS without checking it.
func parseJWS(token string) (*jws, error) {
	if len(token) > MaxContextLength {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxContextLength)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: not three dot-separated parts", ErrMalformed)
	}
	dec := func(s, what string) ([]byte, error) {
		b, err := base64.RawURLEncoding.Strict().DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("%w: %s is not base64url without padding", ErrMalformed, what)
		}
		return b, nil
	}
	h, err := dec(parts[0], "the header")
	if err != nil {
		return nil, err
	}
	j := &jws{signed: []byte(parts[0] + "." + parts[1])}
	if j.claims, err = dec(parts[1], "the payload"); err != nil {
		return nil, err
	}
	if j.signature, err = dec(parts[2], "the signature"); err != nil {
		return nil, err
	}
	obj, err := decodeObject(h)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	if _, crit := obj["crit"]; crit {
		return nil, fmt.Errorf("%w: header has crit", ErrMalformed)
	}
	var ok [2]bool
	j.header.Alg, _, ok[0] = obj.str("alg")
	j.header.Kid, _, ok[1] = obj.str("kid")
	if !ok[0] || !ok[1] {
		return nil, fmt.Errorf("%w: alg and kid must be strings", ErrMalformed)
	}
	return j, nil
}

// verify checks the signature with one key. The header's alg must be the
// key's; "none" never is.
func (j *jws) verify(key config.ContextKey) error {
	if j.header.Alg != key.Alg {
		return fmt.Errorf("%w: alg %q, the service's key is %s", ErrAlgorithm, j.header.Alg, key.Alg)
	}
	ok := false
	switch key.Alg {
	case config.AlgEdDSA:
		ok = len(j.signature) == ed25519.SignatureSize && ed25519.Verify(key.Ed25519, j.signed, j.signature)
	case config.AlgES256:
		if len(j.signature) == 64 {
			digest := sha256.Sum256(j.signed)
			r, s := new(big.Int).SetBytes(j.signature[:32]), new(big.Int).SetBytes(j.signature[32:])
			ok = ecdsa.Verify(key.ES256, digest[:], r, s)
		}
	case config.AlgHS256:
		mac := hmac.New(sha256.New, key.HMAC)
		mac.Write(j.signed)
		ok = hmac.Equal(mac.Sum(nil), j.signature)
	default:
		return fmt.Errorf("%w: unknown key type", ErrAlgorithm)
	}
	if !ok {
		return ErrSignature
	}
	return nil
}

// object is a JSON object by its exact keys.
type object map[string]json.RawMessage

// decodeObject decodes one JSON object, refusing a key twice in the
// object (which value would count is up to each parser, so a duplicate
// could make rathaus and the service read different claims) and anything
// after it. Keys are matched exactly (encoding/json would also take
// "LEIKA" for "leika"); unknown keys are ignored by the callers.
func decodeObject(data []byte) (object, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	errNotObject := errors.New("not a JSON object")
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errNotObject
	}
	obj := object{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errNotObject
		}
		key, _ := tok.(string)
		if _, dup := obj[key]; dup {
			return nil, fmt.Errorf("key %q twice", key)
		}
		var raw json.RawMessage
		if err = dec.Decode(&raw); err != nil {
			return nil, errNotObject
		}
		obj[key] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, errNotObject
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the object")
	}
	return obj, nil
}

// str reads an optional string field; ok is false if it has another type.
func (o object) str(key string) (v string, present, ok bool) {
	raw, present := o[key]
	if !present || string(raw) == "null" {
		return "", false, true
	}
	return v, true, json.Unmarshal(raw, &v) == nil
}

// integer reads an optional integer field (a JSON number without
// fraction or exponent).
func (o object) integer(key string) (v int64, present, ok bool) {
	raw, present := o[key]
	if !present {
		return 0, false, true
	}
	return v, true, json.Unmarshal(raw, &v) == nil
}
