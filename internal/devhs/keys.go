package devhs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"time"
)

const (
	certValidity = 365 * 24 * time.Hour
	// certRenewBefore renews a certificate this long before it expires, so
	// a long-lived demo directory never serves an expired one.
	certRenewBefore = 24 * time.Hour
)

// writeSigningKey writes a fresh ed25519 Matrix signing key in the PEM form
// Dendrite's global.private_key expects: a "MATRIX PRIVATE KEY" block holding
// the 32-byte seed, with the key id in a Key-ID header.
func writeSigningKey(path string) error {
	seed := make([]byte, 32)
	if _, err := rand.Read(seed); err != nil {
		return fmt.Errorf("failed to generate signing key: %w", err)
	}
	block := &pem.Block{
		Type:    "MATRIX PRIVATE KEY",
		Headers: map[string]string{"Key-ID": "ed25519:devhs"},
		Bytes:   seed,
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return fmt.Errorf("failed to write signing key: %w", err)
	}
	return nil
}

// writeSynapseSigningKey writes a fresh ed25519 Matrix signing key in
// Synapse's format (signedjson's write_signing_keys): one line of
// algorithm, key version and the unpadded base64 of the 32-byte seed.
// Synapse 1.163 would create one on its first start too; writing it here
// keeps the directory's identity with prepare, as for Dendrite, and costs
// no Python run.
func writeSynapseSigningKey(path string) error {
	seed := make([]byte, 32)
	if _, err := rand.Read(seed); err != nil {
		return fmt.Errorf("failed to generate signing key: %w", err)
	}
	line := "ed25519 devhs " + base64.RawStdEncoding.EncodeToString(seed) + "\n"
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		return fmt.Errorf("failed to write signing key: %w", err)
	}
	return nil
}

// certUsable reports whether certPath and keyPath hold a matching pair that
// stays valid for longer than certRenewBefore.
func certUsable(certPath, keyPath string) bool {
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil || len(pair.Certificate) == 0 {
		return false
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return false
	}
	return time.Now().Add(certRenewBefore).Before(cert.NotAfter)
}

// writeTLSCert writes a fresh self-signed certificate for 127.0.0.1, ::1
// and localhost, and its key. Federating servers skip validation
// (federation_api.disable_tls_validation), so only the listener needs it.
func writeTLSCert(certPath, keyPath string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("failed to generate TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return fmt.Errorf("failed to generate certificate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("failed to create TLS certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("failed to encode TLS key: %w", err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return fmt.Errorf("failed to write TLS certificate: %w", err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return fmt.Errorf("failed to write TLS key: %w", err)
	}
	return nil
}
