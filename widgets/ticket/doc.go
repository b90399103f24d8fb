// Package ticket is the OZG ticket widget: a page that Element Web and
// Element Desktop show beside a case room (im.vector.modular.widgets state,
// set by cases when the room is created), and its small JSON API.
//
// The page speaks the Matrix widget API (MSC2762) with its client itself
// (widgets/internal/webkit/widgetapi.js, no library): it answers the capabilities request
// (it needs none), asks for an OpenID token (get_openid), and signs in
// with it at POST api/v1/session (widgets/internal/widgetauth: the token's
// homeserver is asked by federation discovery, the sub must be of that
// server, the user must be joined to the room with power level ≥ 50 and be
// on the team of the case's department). The session is a bearer token for
// the other routes, scoped to the room, for ten minutes; each action checks
// membership and power level again. Room and user ids in the widget's URL
// are hints only: the room is checked at sign-in, the user is the token's.
//
// Every action is package tickets', the same the `!rathaus ticket` commands
// run. The page is served with frame-ancestors * (the Matrix client's
// origin is not known in advance) and otherwise the strict policy of every
// rathaus page.
package ticket
