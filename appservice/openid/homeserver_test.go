package openid_test

import (
	"crypto/x509"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/appservice/openid"
	"github.com/rathaus-de/rathaus/internal/tesths"
)

// TestVerifyRealHomeservers runs one homeserver of each kind side by side:
// each vouches for its own users' tokens, and neither token is accepted as
// the other server's. The verifier trusts the homeservers' self-signed
// certificates as extra roots, so TLS is verified as in production.
func TestVerifyRealHomeservers(t *testing.T) {
	var opts []tesths.Options
	for _, kind := range tesths.Kinds() {
		opts = append(opts, tesths.Options{Kind: kind})
	}
	hss := tesths.StartMixed(t, opts...)
	var certs []*x509.Certificate
	for _, hs := range hss {
		certs = append(certs, hs.Certificate(t))
	}
	v := newVerifier(t, openid.Options{AllowNetworks: loopback}, certs...)

	tokens := make([]string, len(hss))
	for i, hs := range hss {
		t.Run(string(hs.Kind), func(t *testing.T) {
			cli, userID, _ := hs.RegisterUser(t, "alice", false)
			resp, err := cli.RequestOpenIDToken(t.Context())
			require.NoError(t, err)
			require.NotEmpty(t, resp.AccessToken)
			assert.Equal(t, hs.ServerName, resp.MatrixServerName)
			tokens[i] = resp.AccessToken

			user, err := v.Verify(t.Context(), hs.ServerName, resp.AccessToken)
			require.NoError(t, err)
			assert.Equal(t, userID, user)

			_, err = v.Verify(t.Context(), hs.ServerName, "garbage"+resp.AccessToken[1:])
			refused(t, err, openid.ErrInvalidToken, resp.AccessToken)
		})
	}
	if t.Failed() {
		return
	}
	// A token of server A presented as belonging to server B: B does not
	// know it.
	for i, hs := range hss {
		other := hss[(i+1)%len(hss)]
		_, err := v.Verify(t.Context(), other.ServerName, tokens[i])
		refused(t, err, openid.ErrInvalidToken, tokens[i])
		t.Logf("token of %s (%s) at %s (%s): %v", hs.Kind, hs.ServerName, other.Kind, other.ServerName, err)
	}

	// The production setting refuses the loopback homeservers outright.
	strict := newVerifier(t, openid.Options{}, certs...)
	_, err := strict.Verify(t.Context(), hss[0].ServerName, tokens[0])
	refused(t, err, openid.ErrForbiddenTarget, tokens[0])
}
