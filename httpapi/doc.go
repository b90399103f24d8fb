// Package httpapi owns what every HTTP surface of rathaus shares: the one
// error answer ({"errcode": "...", "error": "..."}, written by [WriteError]),
// JSON answers ([WriteJSON]) and bounded JSON request bodies ([DecodeJSON]),
// the client address behind trusted reverse proxies ([TrustedProxies]), the
// same-origin check and CSRF tokens ([SameOrigin], [CSRF]), and
// Content-Security-Policy headers ([CSP]). The rate limits are in
// httpapi/ratelimit.
//
// The guest chat uses it today; the OZG intake API, the widget APIs and the
// MatrixRTC authorization service will. It therefore imports no other
// rathaus package: no store, no config, no widget. Callers pass in what they
// configured (origins, proxy ranges, keys).
package httpapi
