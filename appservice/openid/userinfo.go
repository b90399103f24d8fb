package openid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
)

// userInfoPath is the federation endpoint of the server-server spec
// ("OpenID": GET /_matrix/federation/v1/openid/userinfo).
const userInfoPath = "/_matrix/federation/v1/openid/userinfo"

var errcodeRe = regexp.MustCompile(`^M_[A-Z_]{1,64}$`)

// userInfo asks t who token belongs to and returns the answer's sub,
// unchecked.
func (v *Verifier) userInfo(ctx context.Context, serverName string, t target, token string) (string, error) {
	tr := &http.Transport{
		Proxy: nil, // never an environment proxy
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			return nil, errPlainHTTP
		},
		// The URL carries the Host header; the connection goes to the
		// resolved addresses instead.
		DialTLSContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return v.dialTarget(ctx, t)
		},
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 16 << 10,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport: tr,
		// The spec allows no redirect here; following one would send the
		// token to wherever the server points.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	u := url.URL{
		Scheme:   "https",
		Host:     t.hostHeader,
		Path:     userInfoPath,
		RawQuery: url.Values{"access_token": {token}}.Encode(),
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("%w: failed to build request for %s", ErrUnreachable, serverName)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		// url.Error's text holds the URL, and so the token: keep only the
		// cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, ErrForbiddenTarget) {
			return "", fmt.Errorf("failed to reach %s: %w", serverName, err)
		}
		return "", fmt.Errorf("%w: failed to reach %s: %w", ErrUnreachable, serverName, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, v.maxBody+1))
	if err != nil {
		return "", fmt.Errorf("%w: failed to read answer of %s: %w", ErrUnreachable, serverName, err)
	}
	if int64(len(body)) > v.maxBody {
		return "", fmt.Errorf("%w: %s answered more than %d bytes", ErrBadResponse, serverName, v.maxBody)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		var info struct {
			Sub string `json:"sub"`
		}
		if err := json.Unmarshal(body, &info); err != nil {
			return "", fmt.Errorf("%w: %s answered no JSON object: %w", ErrBadResponse, serverName, err)
		}
		return info.Sub, nil
	case http.StatusUnauthorized:
		var merr struct {
			Errcode string `json:"errcode"`
		}
		_ = json.Unmarshal(body, &merr)
		if !errcodeRe.MatchString(merr.Errcode) {
			merr.Errcode = "no errcode"
		}
		return "", fmt.Errorf("%w: %s answered 401 (%s)", ErrInvalidToken, serverName, merr.Errcode)
	}
	return "", fmt.Errorf("%w: %s answered status %d", ErrBadResponse, serverName, resp.StatusCode)
}
