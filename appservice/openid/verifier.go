package openid

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"
)

// Defaults of Options.
const (
	DefaultTimeout          = 10 * time.Second
	DefaultMaxResponseBytes = 64 << 10
	DefaultCacheTTL         = time.Minute
	DefaultCacheSize        = 10000
)

// maxTokenLength bounds what is sent to a homeserver. Synapse's and
// Dendrite's OpenID tokens are 24 to 64 characters.
const maxTokenLength = 1024

// Options configure a Verifier. The zero value (plus a Logger) is the
// production setting: public addresses only, system roots, defaults below.
type Options struct {
	// Logger receives a debug line per verification, with the server name
	// and the outcome; never the token.
	Logger zerolog.Logger

	// AllowNetworks lists address prefixes that are refused by default
	// (loopback, private, shared, link-local, ...) but may be contacted
	// anyway: 127.0.0.0/8 and ::1/128 in tests, or an authority's own
	// network where a partner's homeserver lives (e.g. 10.20.0.0/16).
	AllowNetworks []netip.Prefix

	// ExtraRootCAs are trusted besides the system's roots, e.g. an
	// authority's internal CA.
	ExtraRootCAs []*x509.Certificate

	// InsecureSkipVerifyLoopback skips certificate verification for
	// connections whose peer is a loopback address, and only for those.
	// For tests against homeservers with self-signed certificates; the
	// loopback network must also be in AllowNetworks to be reached at all.
	InsecureSkipVerifyLoopback bool

	// Timeout bounds one Verify: resolution, .well-known, connect, TLS
	// and the userinfo answer. Default: DefaultTimeout.
	Timeout time.Duration

	// MaxResponseBytes bounds each response body read (.well-known and
	// userinfo). Default: DefaultMaxResponseBytes.
	MaxResponseBytes int64

	// CacheTTL is how long a successful verification is remembered, so a
	// widget's repeated sign-ins do not each cost a federation request.
	// A token revoked at its homeserver stays accepted that long. Default:
	// DefaultCacheTTL; negative disables the cache.
	CacheTTL time.Duration

	// CacheSize caps the cached verifications. Default: DefaultCacheSize.
	CacheSize int

	// Resolver looks up SRV records and host names. Default:
	// net.DefaultResolver.
	Resolver *net.Resolver

	// Now is the clock of the cache. Default: time.Now.
	Now func() time.Time
}

// Verifier checks OpenID tokens at their homeserver. It is safe for
// concurrent use.
type Verifier struct {
	log                zerolog.Logger
	allow              []netip.Prefix
	roots              *x509.CertPool
	skipVerifyLoopback bool
	timeout            time.Duration
	maxBody            int64
	resolver           *net.Resolver
	wellKnown          *http.Client
	cache              *cache // nil when disabled
}

// New builds a Verifier from opts.
func New(opts Options) (*Verifier, error) {
	var errs []error
	for _, p := range opts.AllowNetworks {
		if !p.IsValid() {
			errs = append(errs, fmt.Errorf("invalid prefix %v in AllowNetworks", p))
		}
	}
	if opts.Timeout < 0 {
		errs = append(errs, errors.New("negative Timeout"))
	}
	if opts.MaxResponseBytes < 0 {
		errs = append(errs, errors.New("negative MaxResponseBytes"))
	}
	if opts.CacheSize < 0 {
		errs = append(errs, errors.New("negative CacheSize"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("invalid OpenID verifier options: %w", err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		// No system roots (a scratch container): only the extra ones.
		roots = x509.NewCertPool()
	}
	for _, c := range opts.ExtraRootCAs {
		roots.AddCert(c)
	}
	v := &Verifier{
		log:                opts.Logger,
		allow:              append([]netip.Prefix(nil), opts.AllowNetworks...),
		roots:              roots,
		skipVerifyLoopback: opts.InsecureSkipVerifyLoopback,
		timeout:            opts.Timeout,
		maxBody:            opts.MaxResponseBytes,
		resolver:           opts.Resolver,
	}
	if v.timeout == 0 {
		v.timeout = DefaultTimeout
	}
	if v.maxBody == 0 {
		v.maxBody = DefaultMaxResponseBytes
	}
	if v.resolver == nil {
		v.resolver = net.DefaultResolver
	}
	v.wellKnown = v.wellKnownClient()
	if opts.CacheTTL >= 0 {
		ttl, size, now := opts.CacheTTL, opts.CacheSize, opts.Now
		if ttl == 0 {
			ttl = DefaultCacheTTL
		}
		if size == 0 {
			size = DefaultCacheSize
		}
		if now == nil {
			now = time.Now
		}
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("failed to generate cache key: %w", err)
		}
		v.cache = newCache(key, ttl, size, now)
	}
	return v, nil
}

// Verify asks the homeserver serverName who accessToken belongs to and
// returns that user id, which is always on serverName. Errors wrap the
// sentinels of errors.go and never contain the token.
func (v *Verifier) Verify(ctx context.Context, serverName, accessToken string) (id.UserID, error) {
	log := v.log.With().Str("server_name", serverName).Logger()
	user, err := v.verify(ctx, serverName, accessToken)
	if err != nil {
		err = redact(err, accessToken)
		log.Debug().Err(err).Msg("OpenID token refused")
		return "", err
	}
	log.Debug().Stringer("user_id", user).Msg("OpenID token verified")
	return user, nil
}

func (v *Verifier) verify(ctx context.Context, serverName, token string) (id.UserID, error) {
	if err := validateServerName(serverName); err != nil {
		return "", err
	}
	if err := validateToken(token); err != nil {
		return "", err
	}
	var key cacheKey
	if v.cache != nil {
		key = v.cache.key(serverName, token)
		if user, ok := v.cache.get(key); ok {
			return user, nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	tgt, err := v.resolve(ctx, serverName)
	if err != nil {
		return "", err
	}
	sub, err := v.userInfo(ctx, serverName, tgt, token)
	if err != nil {
		return "", err
	}
	user, err := checkSub(sub, serverName)
	if err != nil {
		return "", err
	}
	if v.cache != nil {
		v.cache.put(key, user)
	}
	return user, nil
}
