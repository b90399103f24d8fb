package openid

import "errors"

// Errors of Verify. Each is wrapped with details (never the token); test
// with errors.Is.
var (
	// ErrInvalidServerName: the server name does not match the Matrix
	// grammar. The caller should answer 400 (the request is malformed).
	ErrInvalidServerName = errors.New("invalid server name")

	// ErrInvalidToken: the token is malformed, or the homeserver answered
	// 401 (M_UNKNOWN_TOKEN: unknown or expired). The caller should answer
	// 401; the client may ask for a new token.
	ErrInvalidToken = errors.New("OpenID token not accepted")

	// ErrUnreachable: the homeserver could not be resolved, connected to,
	// verified (TLS) or did not answer in time (then context.DeadlineExceeded
	// is in the chain too). The caller should answer 502 or 503 and may
	// retry later.
	ErrUnreachable = errors.New("homeserver unreachable")

	// ErrForbiddenTarget: the server name, its .well-known or its SRV
	// record leads to an address that is not allowed (loopback, private,
	// link-local, ...; see Options.AllowNetworks). Nothing was sent there.
	// The caller should answer 403: the operator must allow the network.
	ErrForbiddenTarget = errors.New("homeserver address not allowed")

	// ErrBadResponse: the homeserver answered, but not as the spec says
	// (status other than 200 and 401, not JSON, too large, redirect). The
	// caller should answer 502.
	ErrBadResponse = errors.New("unexpected answer from homeserver")

	// ErrSubMismatch: the homeserver vouched for a user id that is not
	// valid or not on the server asked (CVE-2023-38691). The caller should
	// answer 403 and may log it as an attack.
	ErrSubMismatch = errors.New("homeserver vouched for a user of another server")
)
