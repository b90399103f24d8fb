package widgetauth

import "maunium.net/go/mautrix/id"

// The browser-facing contract of widget sign-in (docs/architecture.md,
// "Widget sign-in"). A widget server mounts Auth.SignIn at its own path,
// e.g. POST /api/ticket/v1/session.

// SignInRequest is the body of a sign-in: what the widget API's get_openid
// answered, plus the room id from the widget's URL ($matrix_room_id).
// Unknown fields (get_openid's expires_in and token_type) are ignored, so a
// widget may post get_openid's answer with room_id added.
type SignInRequest struct {
	AccessToken      string    `json:"access_token"`
	MatrixServerName string    `json:"matrix_server_name"`
	RoomID           id.RoomID `json:"room_id"`
}

// SignInResponse is the answer of a successful sign-in.
type SignInResponse struct {
	// Session is the bearer token of the widget's further requests
	// ("Authorization: Bearer <session>"). 43 characters of base64url.
	Session string `json:"session"`
	// ExpiresInMS is the session's lifetime in milliseconds from now; it is
	// not extended by use. Sign in again (with a new OpenID token) before
	// it ends, or when an action answers 401.
	ExpiresInMS int64     `json:"expires_in_ms"`
	UserID      id.UserID `json:"user_id"`
	RoomID      id.RoomID `json:"room_id"`
	// PowerLevel is the user's power level in the room at sign-in, so the
	// page can hide what the user may not do. Each action checks again.
	PowerLevel int `json:"power_level"`
}

// maxSignInBody bounds the sign-in body: a token of ≤ 1 KiB, a server name
// and a room id.
const maxSignInBody = 4 << 10
