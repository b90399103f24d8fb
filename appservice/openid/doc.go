// Package openid checks Matrix OpenID tokens: it asks the homeserver that
// issued a token who it belongs to, through the federation API
// (GET /_matrix/federation/v1/openid/userinfo), and answers with that user
// id only if the homeserver is the one named in it.
//
// A Matrix client gets such a token from its own homeserver
// (POST /_matrix/client/v3/user/{userId}/openid/request_token, or the widget
// API's get_openid) and hands it, with the server name, to a third party:
// here rathaus's widgets (ticket, video) and the MatrixRTC authorization
// service. Verifier.Verify is the one check all of them share:
//
//  1. the server name must match the Matrix grammar;
//  2. it is resolved as federation does (IP literal, .well-known/matrix/server,
//     SRV _matrix-fed._tcp and _matrix._tcp, port 8448), through mautrix's
//     federation.ResolveServerName, with this package's HTTP client and
//     dialer;
//  3. every connection, the .well-known request included, goes to a public
//     address only: the dialer checks the address it actually connects to,
//     after DNS, so a name that resolves to loopback, a private, shared,
//     link-local, multicast or reserved address is refused (Options.AllowNetworks
//     lifts that for named prefixes, e.g. loopback in tests or an authority's
//     own network);
//  4. TLS is verified against the system roots (plus Options.ExtraRootCAs);
//     no environment proxy, no redirects on the userinfo request, bounded
//     time and size;
//  5. the answer's sub must be a valid user id whose server part is exactly
//     the server name asked. Without this a malicious homeserver could vouch
//     for users of another server (CVE-2023-38691: a consumer of this
//     endpoint that skipped the comparison let any homeserver impersonate
//     anyone).
//
// Successful answers are cached for a short time (Options.CacheTTL), keyed
// by an HMAC of server name and token under a per-process random key; the
// token itself is never stored, logged or put into an error.
//
// The package lives under appservice because the design puts the Matrix
// protocol there; it imports nothing of rathaus, so widgets and video can
// both use it.
package openid
