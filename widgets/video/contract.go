// Package video serves the staff call page: the caseworker's side of a
// video consultation in a case room (docs/video.md). It is a room widget
// in Element Web and Desktop (signed in with the widget API's OpenID
// token, as the ticket widget is) and joins the embedded media server
// with widgets/internal/webkit's rtc.js. Every action also exists as a
// `!rathaus video` command for clients without widgets.
package video

import "time"

// The browser-facing contract. Every path is below Prefix; every route
// but the page, its assets and the sign-in needs
// "Authorization: Bearer <session>".
//
//	POST   api/v1/session  widgetauth.SignInRequest → widgetauth.SignInResponse
//	DELETE api/v1/session  → 204
//	GET    api/v1/call     → CallResponse
//	POST   api/v1/join     → video.JoinInfo (starts the call if needed)
//	POST   api/v1/admit    ActionRequest → CallResponse
//	POST   api/v1/deny     ActionRequest → CallResponse
//	POST   api/v1/kick     ActionRequest → CallResponse
//	POST   api/v1/mute     ActionRequest → CallResponse
//	POST   api/v1/end      ActionRequest → CallResponse

// Prefix is where the page is served on the public listener.
const Prefix = "/widgets/video/"

// CallResponse is the call as the staff page shows it.
type CallResponse struct {
	Running      bool              `json:"running"`
	Started      *time.Time        `json:"started,omitempty"`
	Waiting      []WaitingJSON     `json:"waiting"`
	Participants []ParticipantJSON `json:"participants"`
}

// WaitingJSON is a knock in the lobby.
type WaitingJSON struct {
	Identity string    `json:"identity"`
	Position int       `json:"position"`
	Since    time.Time `json:"since"`
}

// ParticipantJSON is someone in the call.
type ParticipantJSON struct {
	Identity   string    `json:"identity"`
	Role       string    `json:"role"`
	Publishing bool      `json:"publishing"`
	JoinedAt   time.Time `json:"joined_at"`
	// Quality is absent until the media server has measured it.
	Quality *QualityJSON `json:"quality,omitempty"`
}

// QualityJSON is a participant's connection: round trip in
// milliseconds, loss as a share (0–1) towards and from the participant,
// and whether it is poor enough to notice.
type QualityJSON struct {
	RTTMillis   int64   `json:"rtt_ms"`
	ReceiveLoss float64 `json:"receive_loss"`
	SendLoss    float64 `json:"send_loss"`
	Poor        bool    `json:"poor"`
}

// ActionRequest names whom an action is for ("citizen" or a staff user
// id) and, for mute, what (audio or video).
type ActionRequest struct {
	Identity string `json:"identity"`
	Kind     string `json:"kind,omitempty"`
}

// The errcodes of the page's actions, beside widgetauth's and httpapi's.
const (
	// CodeNoCase (404): the room is not a case room.
	CodeNoCase = "no_case"
	// CodeNoCall (409): no call is running.
	CodeNoCall = "no_call"
	// CodeNotWaiting (409): nobody of that identity is waiting.
	CodeNotWaiting = "not_waiting"
	// CodeCaseEnded (409): the case is no longer open.
	CodeCaseEnded = "case_ended"
	// CodeBadRequest (400): identity or kind is missing or unknown.
	CodeBadRequest = "bad_request"
)

const maxActionBody = 1 << 10
