// Package matrixrtc makes rathaus the MatrixRTC authorization service of
// its homeserver's case rooms (MSC4195, what Element's lk-jwt-service
// does; written from the public API description, stricter): a Matrix
// client (Element Call, Element X, Element Web) posts an OpenID token and
// gets a LiveKit token for the room's call.
//
// Endpoints, under the service's URL (the livekit_service_url that
// clients discover through the homeserver's MSC4143 transports or the
// .well-known org.matrix.msc4143.rtc_foci):
//
//	POST /get_token               {room_id, slot_id, openid_token, member}
//	POST /sfu/get                 {room, openid_token, device_id} (legacy)
//	POST /delegate_delayed_leave  {…, delay_id, delay_timeout, delay_cs_api_url}
//	GET  /healthz
//	GET  /well-known              the rtc_foci fragment for .well-known/matrix/client
//
// What rathaus checks, in this order, before minting a token:
//
//  1. the body is exactly the request's shape (unknown fields refused,
//     400 M_BAD_JSON; not JSON, 400 M_NOT_JSON);
//  2. the OpenID token at the user's own homeserver, with sub bound to
//     that server (appservice/openid; 401 M_UNAUTHORIZED otherwise);
//  3. claimed_user_id is sub (401 otherwise);
//  4. the user is joined to the room now (403 M_FORBIDDEN otherwise;
//     lk-jwt-service does not check this);
//  5. the call service's policy: a caseworker of the case, case open
//     (403 M_FORBIDDEN otherwise), the room's main call, m.call#ROOM
//     (400 M_INVALID_PARAM otherwise). That starts the case's call.
//
// The token then names the LiveKit room Element Call computes for the
// Matrix room and slot (livekit.RoomAlias) and the identity
// "@user:server:DEVICE" (compatibility mode), so staff from Element and
// the citizen from rathaus's page meet in one LiveKit room. It never
// creates rooms (rathaus does) and lasts at most an hour.
package matrixrtc

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice/openid"
	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/video"
	"github.com/rathaus-de/rathaus/video/livekit"
)

// MainSlot is the slot of a room's main call (MSC4143).
const MainSlot = "m.call#ROOM"

// maxBody bounds a request; real ones are well under 2 KiB.
const maxBody = 16 << 10

// TokenTTL is how long a minted LiveKit token may be used to join.
const TokenTTL = time.Hour

// Verifier checks an OpenID token at its homeserver (*openid.Verifier).
type Verifier interface {
	Verify(ctx context.Context, serverName, accessToken string) (id.UserID, error)
}

// Members answers whether a user is joined to a room now (the bot's
// view; internal/app).
type Members interface {
	Joined(ctx context.Context, room id.RoomID, user id.UserID) (bool, error)
}

// Calls is the call service's side: whether the user may join the room's
// call from their own client, starting it if needed (*calls.Service).
type Calls interface {
	// NativeJoin returns the call of the room's slot for user, or an
	// error wrapping video.ErrNotStaff, video.ErrCaseClosed,
	// ErrNotCallRoom or ErrSlot. The call's LiveKit room must be
	// livekit.RoomAlias(room, slot).
	NativeJoin(ctx context.Context, room id.RoomID, slot string, user id.UserID) (video.CallID, error)
}

// Granter mints the LiveKit token (*livekit.Backend).
type Granter interface {
	Grant(ctx context.Context, req video.GrantRequest) (video.JoinInfo, error)
}

// Refusals of Calls.NativeJoin besides those of package video.
var (
	// ErrNotCallRoom: the room has no calls through rathaus (not a case
	// room).
	ErrNotCallRoom = errors.New("matrixrtc: rathaus does not run calls in this room")
	// ErrSlot: rathaus runs no call in that slot of the room.
	ErrSlot = errors.New("matrixrtc: rathaus runs only the room's main call (slot m.call#ROOM)")
)

// Options configure New.
type Options struct {
	Verifier Verifier
	Members  Members
	Calls    Calls
	Granter  Granter
	// ServiceURL is this service as clients reach it (the
	// livekit_service_url), for the .well-known fragment.
	ServiceURL string
	// IsAppserviceUser reports rathaus's own users (bot, ghosts): they
	// get no token here (the ghost's comes from rathaus itself).
	IsAppserviceUser func(id.UserID) bool
	// Leaves takes delegated delayed leaves; nil answers them 501.
	Leaves *Leaves
	Log    zerolog.Logger
}

// Service is the authorization service.
type Service struct {
	opts Options
}

// New checks the options.
func New(opts Options) (*Service, error) {
	if opts.Verifier == nil || opts.Members == nil || opts.Calls == nil || opts.Granter == nil {
		return nil, errors.New("matrixrtc: Verifier, Members, Calls and Granter are required")
	}
	if opts.IsAppserviceUser == nil {
		opts.IsAppserviceUser = func(id.UserID) bool { return false }
	}
	return &Service{opts: opts}, nil
}

// The Matrix-style errors of the service.
var (
	errNotJSON      = httpapi.NewError(http.StatusBadRequest, "M_NOT_JSON", "the body is not a JSON object")
	errUnauthorized = httpapi.NewError(http.StatusUnauthorized, "M_UNAUTHORIZED", "the OpenID token was not accepted")
	errNotMember    = httpapi.NewError(http.StatusForbidden, "M_FORBIDDEN", "you are not joined to this room")
	errForbidden    = httpapi.NewError(http.StatusForbidden, "M_FORBIDDEN", "you may not join this room's call")
	errClosed       = httpapi.NewError(http.StatusForbidden, "M_FORBIDDEN", "the case is closed: no calls")
	errNoCalls      = httpapi.NewError(http.StatusForbidden, "M_FORBIDDEN", "rathaus runs no calls in this room")
	errSlot         = httpapi.NewError(http.StatusBadRequest, "M_INVALID_PARAM", "only the room's main call (slot m.call#ROOM) is served")
	errUnavailable  = httpapi.NewError(http.StatusServiceUnavailable, "M_UNKNOWN", "the homeserver or the media server could not be asked; try again")
)

func badJSON(msg string) *httpapi.Error {
	return httpapi.NewError(http.StatusBadRequest, "M_BAD_JSON", msg)
}

// Handler serves the endpoints; mount it with its prefix stripped.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/get_token", s.cors(s.getToken))
	mux.HandleFunc("/sfu/get", s.cors(s.sfuGet))
	mux.HandleFunc("/delegate_delayed_leave", s.cors(s.delegateDelayedLeave))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			httpapi.WriteError(w, httpapi.ErrMethodNotAllowed)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("/well-known", s.wellKnown)
	return mux
}

// cors lets browser clients on any origin post (the body carries the
// credential, never a cookie) and answers the preflight.
func (s *Service) cors(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Content-Type")
		h.Set("Access-Control-Max-Age", "600")
		h.Set("Cache-Control", "no-store")
		switch r.Method {
		case http.MethodOptions:
			w.WriteHeader(http.StatusNoContent)
		case http.MethodPost:
			next(w, r)
		default:
			h.Set("Allow", "POST, OPTIONS")
			httpapi.WriteError(w, httpapi.ErrMethodNotAllowed)
		}
	}
}

// decode reads exactly one JSON object of v's shape.
func decode(w http.ResponseWriter, r *http.Request, v any) *httpapi.Error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return httpapi.TooLarge("the body is too large")
	}
	if !json.Valid(body) || !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
		return errNotJSON
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badJSON("the body does not have the request's shape: " + err.Error())
	}
	return nil
}

// OpenIDToken is what the client got from its homeserver's
// /openid/request_token.
type OpenIDToken struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	MatrixServerName string `json:"matrix_server_name"`
	ExpiresIn        int    `json:"expires_in"`
}

// Member names the MatrixRTC membership the token is for.
type Member struct {
	ID              string `json:"id"`
	ClaimedUserID   string `json:"claimed_user_id"`
	ClaimedDeviceID string `json:"claimed_device_id"`
}

// delayFields are the delayed leave an earlier MSC4195 put into the token
// request; taken as a delegation.
type delayFields struct {
	DelayID       string `json:"delay_id,omitempty"`
	DelayTimeout  int    `json:"delay_timeout,omitempty"`
	DelayCSAPIURL string `json:"delay_cs_api_url,omitempty"`
}

func (d delayFields) validate(required bool) *httpapi.Error {
	all := d.DelayID != "" && d.DelayTimeout > 0 && d.DelayCSAPIURL != ""
	some := d.DelayID != "" || d.DelayTimeout != 0 || d.DelayCSAPIURL != ""
	if (required || some) && !all {
		return badJSON("delay_id, delay_timeout (> 0) and delay_cs_api_url go together")
	}
	return nil
}

// TokenRequest is the body of /get_token.
type TokenRequest struct {
	RoomID      string      `json:"room_id"`
	SlotID      string      `json:"slot_id"`
	OpenIDToken OpenIDToken `json:"openid_token"`
	Member      Member      `json:"member"`
	delayFields
}

// LegacyRequest is the body of /sfu/get.
type LegacyRequest struct {
	Room        string      `json:"room"`
	OpenIDToken OpenIDToken `json:"openid_token"`
	DeviceID    string      `json:"device_id"`
	delayFields
}

// TokenResponse is the answer: LiveKit's URL and the token.
type TokenResponse struct {
	URL string `json:"url"`
	JWT string `json:"jwt"`
}

func validRoomID(s string) bool {
	return len(s) >= 2 && len(s) <= 255 && s[0] == '!' && !strings.ContainsFunc(s, func(c rune) bool { return c <= ' ' || c > '~' })
}

// validDeviceID: printable ASCII without ':' (it ends the LiveKit
// identity) or spaces, at most 255 bytes.
func validDeviceID(s string) bool {
	return s != "" && len(s) <= 255 && !strings.ContainsFunc(s, func(c rune) bool { return c <= ' ' || c > '~' || c == ':' })
}

func (t OpenIDToken) validate() *httpapi.Error {
	if t.AccessToken == "" || t.MatrixServerName == "" {
		return badJSON("openid_token needs access_token and matrix_server_name")
	}
	if t.TokenType != "" && t.TokenType != "Bearer" {
		return badJSON("openid_token.token_type must be Bearer")
	}
	return nil
}

func (req *TokenRequest) validate() *httpapi.Error {
	switch {
	case !validRoomID(req.RoomID):
		return badJSON("room_id must be a Matrix room id")
	case req.SlotID == "" || len(req.SlotID) > 255:
		return badJSON("slot_id is required")
	case req.Member.ID == "" || req.Member.ClaimedUserID == "" || !validDeviceID(req.Member.ClaimedDeviceID):
		return badJSON("member needs id, claimed_user_id and a claimed_device_id")
	}
	if e := req.OpenIDToken.validate(); e != nil {
		return e
	}
	return req.delayFields.validate(false)
}

func (req *LegacyRequest) validate() *httpapi.Error {
	switch {
	case !validRoomID(req.Room):
		return badJSON("room must be a Matrix room id")
	case !validDeviceID(req.DeviceID):
		return badJSON("device_id is required")
	}
	if e := req.OpenIDToken.validate(); e != nil {
		return e
	}
	return req.delayFields.validate(false)
}

func (s *Service) getToken(w http.ResponseWriter, r *http.Request) {
	var req TokenRequest
	if e := decode(w, r, &req); e != nil {
		httpapi.WriteError(w, e)
		return
	}
	if e := req.validate(); e != nil {
		httpapi.WriteError(w, e)
		return
	}
	s.answer(w, r, grantRequest{room: id.RoomID(req.RoomID), slot: req.SlotID, token: req.OpenIDToken,
		claimed: req.Member.ClaimedUserID, device: req.Member.ClaimedDeviceID, delay: req.delayFields})
}

func (s *Service) sfuGet(w http.ResponseWriter, r *http.Request) {
	var req LegacyRequest
	if e := decode(w, r, &req); e != nil {
		httpapi.WriteError(w, e)
		return
	}
	if e := req.validate(); e != nil {
		httpapi.WriteError(w, e)
		return
	}
	s.answer(w, r, grantRequest{room: id.RoomID(req.Room), slot: MainSlot, token: req.OpenIDToken,
		device: req.DeviceID, delay: req.delayFields})
}

type grantRequest struct {
	room    id.RoomID
	slot    string
	token   OpenIDToken
	claimed string // "" on the legacy endpoint
	device  string
	delay   delayFields
}

// authorize runs checks 2 to 6 and returns the user and the call.
func (s *Service) authorize(ctx context.Context, room id.RoomID, slot string, token OpenIDToken, claimed string, log *zerolog.Logger) (id.UserID, video.CallID, *httpapi.Error) {
	user, err := s.opts.Verifier.Verify(ctx, token.MatrixServerName, token.AccessToken)
	if err != nil {
		ev := log.Info()
		if errors.Is(err, openid.ErrSubMismatch) {
			ev = log.Warn()
		}
		ev.Err(err).Msg("MatrixRTC token refused: OpenID token not verified")
		if errors.Is(err, openid.ErrUnreachable) || errors.Is(err, openid.ErrBadResponse) {
			return "", "", errUnavailable
		}
		return "", "", errUnauthorized
	}
	*log = log.With().Stringer("user_id", user).Logger()
	if user.Homeserver() != token.MatrixServerName {
		log.Warn().Msg("MatrixRTC token refused: verified user is not on the named server")
		return "", "", errUnauthorized
	}
	if claimed != "" && claimed != user.String() {
		log.Warn().Msg("MatrixRTC token refused: claimed_user_id is not the token's user")
		return "", "", errUnauthorized
	}
	if s.opts.IsAppserviceUser(user) {
		log.Info().Msg("MatrixRTC token refused: rathaus's own user")
		return "", "", errForbidden
	}
	joined, err := s.opts.Members.Joined(ctx, room, user)
	if err != nil {
		log.Warn().Err(err).Msg("MatrixRTC token: membership could not be read")
		return "", "", errUnavailable
	}
	if !joined {
		log.Info().Msg("MatrixRTC token refused: not joined to the room")
		return "", "", errNotMember
	}
	call, err := s.opts.Calls.NativeJoin(ctx, room, slot, user)
	switch {
	case errors.Is(err, ErrSlot):
		return "", "", errSlot
	case errors.Is(err, ErrNotCallRoom):
		return "", "", errNoCalls
	case errors.Is(err, video.ErrCaseClosed):
		return "", "", errClosed
	case errors.Is(err, video.ErrNotStaff):
		log.Info().Msg("MatrixRTC token refused: not a caseworker of the case")
		return "", "", errForbidden
	case err != nil:
		log.Warn().Err(err).Msg("MatrixRTC token: the call could not be started")
		return "", "", errUnavailable
	}
	return user, call, nil
}

func (s *Service) answer(w http.ResponseWriter, r *http.Request, g grantRequest) {
	ctx := r.Context()
	log := s.opts.Log.With().Stringer("room_id", g.room).Logger()
	user, call, apiErr := s.authorize(ctx, g.room, g.slot, g.token, g.claimed, &log)
	if apiErr != nil {
		httpapi.WriteError(w, apiErr)
		return
	}
	identity := livekit.Identity(user.String(), g.device)
	info, err := s.opts.Granter.Grant(ctx, video.GrantRequest{Call: call, Identity: video.Identity(identity),
		Rights: video.Rights{Publish: true, Subscribe: true, ScreenShare: true, Role: "staff"}, TTL: TokenTTL})
	if err != nil {
		log.Warn().Err(err).Msg("MatrixRTC token: minting failed")
		httpapi.WriteError(w, errUnavailable)
		return
	}
	if got, want := tokenRoom(info.Token), livekit.RoomAlias(string(g.room), g.slot); got != want {
		// Element would land in another LiveKit room than the one it
		// computes and see nobody: a wiring bug, never the client's.
		log.Error().Str("token_room", got).Str("alias", want).Msg("MatrixRTC token names another LiveKit room than Element Call computes")
		httpapi.WriteError(w, httpapi.ErrInternal)
		return
	}
	if g.delay.DelayID != "" {
		if apiErr := s.delegate(ctx, user, call, identity, g.delay, &log); apiErr != nil {
			httpapi.WriteError(w, apiErr)
			return
		}
	}
	log.Info().Str("call", string(call)).Msg("Minted a MatrixRTC LiveKit token")
	httpapi.WriteJSON(w, http.StatusOK, TokenResponse{URL: info.URL, JWT: info.Token})
}

// tokenRoom is the room a LiveKit token names (its payload, unverified:
// rathaus just minted it).
func tokenRoom(jwt string) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c livekit.Claims
	if json.Unmarshal(raw, &c) != nil {
		return ""
	}
	return c.Video.Room
}

// wellKnown is the fragment an operator puts into (or lets rathaus add
// to) https://<server name>/.well-known/matrix/client, for clients that
// do not ask the homeserver's MSC4143 transports.
func (s *Service) wellKnown(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		httpapi.WriteError(w, httpapi.ErrMethodNotAllowed)
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	httpapi.WriteJSON(w, http.StatusOK, WellKnown(s.opts.ServiceURL))
}

// WellKnown is the .well-known/matrix/client fragment announcing the
// service.
func WellKnown(serviceURL string) map[string]any {
	return map[string]any{"org.matrix.msc4143.rtc_foci": []map[string]string{
		{"type": "livekit", "livekit_service_url": serviceURL},
	}}
}
