package openid

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/rathaus-de/rathaus/httpapi/netguard"
)

// errPlainHTTP refuses any http:// connection: federation and .well-known
// are HTTPS only.
var errPlainHTTP = errors.New("plain HTTP is not used for federation")

// dialTCP connects to addr ("host:port"; a host name is resolved by
// v.resolver). The address check runs in the dialer's Control hook, on the
// address the socket is about to connect to, after DNS: a name cannot
// resolve to one address when checked and another when dialed.
func (v *Verifier) dialTCP(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{
		Resolver:       v.resolver,
		ControlContext: v.checkDial,
	}
	return d.DialContext(ctx, "tcp", addr)
}

func (v *Verifier) checkDial(_ context.Context, network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return fmt.Errorf("%w: network %s", ErrForbiddenTarget, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: address %q", ErrForbiddenTarget, address)
	}
	if ok, reason := netguard.Allowed(ap.Addr(), v.allow); !ok {
		return fmt.Errorf("%w: %s is %s", ErrForbiddenTarget, ap.Addr(), reason)
	}
	return nil
}

// dialTLS connects to addr and completes a TLS handshake that verifies the
// certificate for tlsName (a host name or an IP literal without brackets).
func (v *Verifier) dialTLS(ctx context.Context, addr, tlsName string) (net.Conn, error) {
	raw, err := v.dialTCP(ctx, addr)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		ServerName: tlsName,
		RootCAs:    v.roots,
		MinVersion: tls.VersionTLS12,
	}
	if v.skipVerifyLoopback && isLoopback(raw.RemoteAddr()) {
		// Only for a peer on this machine, which Options allowed for tests
		// against self-signed homeservers; never for a remote address.
		cfg.InsecureSkipVerify = true
	}
	conn := tls.Client(raw, cfg)
	if err := conn.HandshakeContext(ctx); err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("failed TLS handshake with %s: %w", addr, err)
	}
	return conn, nil
}

func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return false
	}
	ip, ok := netip.AddrFromSlice(tcp.IP)
	return ok && ip.Unmap().IsLoopback()
}
