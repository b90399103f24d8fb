package openid

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"maunium.net/go/mautrix/federation"
)

// maxWellKnownRedirects bounds the redirects of the .well-known request,
// the only request on which the spec follows them ("30x redirects should be
// followed"); each hop is dialed through the same address check.
const maxWellKnownRedirects = 5

// target is where a server name's federation API is reached.
type target struct {
	hostHeader string   // Host header: the server name or its delegated name
	tlsName    string   // the name the certificate must be valid for
	addrs      []string // host:port to try, in order
}

// resolve runs federation server discovery with mautrix's
// ResolveServerName, which fetches .well-known through v.wellKnown and
// looks up SRV records through v.resolver. The addresses it returns may be
// host names; dialTCP resolves and checks them.
func (v *Verifier) resolve(ctx context.Context, serverName string) (target, error) {
	res, err := federation.ResolveServerName(ctx, serverName, &federation.ResolveServerNameOpts{
		HTTPClient: v.wellKnown,
		DNSClient:  v.resolver,
	})
	if err != nil {
		return target{}, fmt.Errorf("%w: failed to resolve %s: %w", ErrUnreachable, serverName, err)
	}
	// The spec: certificate and Host header are for the delegated name
	// when .well-known delegates, else for the server name; never for an
	// SRV target.
	host, _, ok := federation.ParseServerName(res.HostHeader)
	if !ok || len(res.IPPort) == 0 {
		return target{}, fmt.Errorf("%w: %s delegates to an invalid server name", ErrUnreachable, serverName)
	}
	return target{hostHeader: res.HostHeader, tlsName: host, addrs: res.IPPort}, nil
}

// dialTarget connects to the first of t's addresses that answers.
func (v *Verifier) dialTarget(ctx context.Context, t target) (net.Conn, error) {
	var errs []error
	for _, addr := range t.addrs {
		conn, err := v.dialTLS(ctx, addr, t.tlsName)
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// wellKnownClient fetches /.well-known/matrix/server: HTTPS through the
// checked dialer, no proxy, few redirects (HTTPS only), bounded time.
// mautrix bounds the body (64 KiB) and falls back to SRV on any failure, as
// the spec says.
func (v *Verifier) wellKnownClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy: nil, // never an environment proxy
			DialContext: func(context.Context, string, string) (net.Conn, error) {
				return nil, errPlainHTTP
			},
			DialTLSContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
				host, _, err := net.SplitHostPort(addr)
				if err != nil {
					return nil, err
				}
				return v.dialTLS(ctx, addr, host)
			},
			DisableKeepAlives:      true,
			MaxResponseHeaderBytes: 16 << 10,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxWellKnownRedirects {
				return errors.New("too many redirects")
			}
			if req.URL.Scheme != "https" {
				return errPlainHTTP
			}
			return nil
		},
		Timeout: v.timeout,
	}
}
