package video

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/httpapi"
	rvideo "github.com/rathaus-de/rathaus/video"
	"github.com/rathaus-de/rathaus/video/calls"
	"github.com/rathaus-de/rathaus/widgets/internal/webkit"
	"github.com/rathaus-de/rathaus/widgets/internal/widgetauth"
)

// Calls are the staff's call actions; *calls.Service implements them, each
// checking the case of the room, the department's team, membership and
// power level.
type Calls interface {
	Check(ctx context.Context, room id.RoomID, actor id.UserID) error
	StaffView(ctx context.Context, room id.RoomID, actor id.UserID) (*rvideo.StaffView, error)
	StaffJoin(ctx context.Context, room id.RoomID, actor id.UserID) (rvideo.JoinInfo, error)
	Admit(ctx context.Context, room id.RoomID, actor id.UserID, who rvideo.Identity, key string) error
	Deny(ctx context.Context, room id.RoomID, actor id.UserID, who rvideo.Identity, key string) error
	Kick(ctx context.Context, room id.RoomID, actor id.UserID, who rvideo.Identity, key string) error
	RequestMute(ctx context.Context, room id.RoomID, actor id.UserID, who rvideo.Identity, kind string) error
	End(ctx context.Context, room id.RoomID, actor id.UserID, key string) error
}

var _ Calls = (*calls.Service)(nil)

// StaffPowerLevel is the power level the page's users need in the room.
const StaffPowerLevel = cases.HandlingPowerLevel

// Options configure New.
type Options struct {
	Calls Calls
	// Verifier checks OpenID tokens at the user's homeserver.
	Verifier widgetauth.Verifier
	// Bot answers membership and power level questions as the bot sees
	// the room.
	Bot *mautrix.Client
	// IsAppserviceUser reports rathaus's own users (bot, citizen ghosts),
	// who never sign in.
	IsAppserviceUser func(id.UserID) bool
	// HomeserverURL is the homeserver's client-server API as browsers
	// reach it: outside a widget host the page signs in there with the
	// member's own account. "": the page works only as a widget.
	HomeserverURL string
	// MediaOrigins are the media server's origins the page connects to
	// (LiveKit's; none for the embedded server, on the page's origin).
	MediaOrigins []string
	Proxies      *httpapi.TrustedProxies
	Version      string
	Log          zerolog.Logger
}

// Server serves the page, its assets and its API below Prefix.
type Server struct {
	opts   Options
	auth   *widgetauth.Auth
	mux    *http.ServeMux
	assets *webkit.AssetServer
	page   string
	csp    string
}

//go:embed web/index.html web/assets/*.js web/assets/*.css
var webFiles embed.FS

// New builds the page's server.
func New(opts Options) (*Server, error) {
	if opts.Calls == nil || opts.Verifier == nil || opts.Bot == nil || opts.IsAppserviceUser == nil {
		return nil, errors.New("video page: Calls, Verifier, Bot and IsAppserviceUser are required")
	}
	s := &Server{opts: opts, csp: webkit.RoomWidgetCSPConnecting(opts.MediaOrigins...)}
	if opts.HomeserverURL != "" {
		u, err := url.Parse(opts.HomeserverURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("video page: the homeserver URL %q is not an http(s) URL", opts.HomeserverURL)
		}
		s.opts.HomeserverURL = strings.TrimSuffix(opts.HomeserverURL, "/")
		s.csp = webkit.RoomWidgetCSPConnecting(append([]string{u.Scheme + "://" + u.Host}, opts.MediaOrigins...)...)
	}
	policy := func(ctx context.Context, a widgetauth.Access) (bool, error) {
		if a.PowerLevel < StaffPowerLevel {
			return false, nil
		}
		err := opts.Calls.Check(ctx, a.Room, a.User)
		if refused(err) {
			return false, nil
		}
		return err == nil, err
	}
	var err error
	s.auth, err = widgetauth.New(widgetauth.Options{Widget: "video", Verifier: opts.Verifier,
		Rooms: widgetauth.ClientRooms{Client: opts.Bot}, IsAppserviceUser: opts.IsAppserviceUser,
		Policy: policy, Proxies: opts.Proxies, Log: opts.Log})
	if err != nil {
		return nil, err
	}
	files, err := webkit.LoadRoomWidgetWeb(webFiles, "web", opts.Version)
	if err != nil {
		return nil, err
	}
	s.assets, s.page = files.Assets, files.Page

	m := http.NewServeMux()
	webkit.MountRoomWidget(m, Prefix, s.servePage, s.assets, s.auth.SignIn(), s.auth.SignOut())
	m.HandleFunc("GET "+Prefix+"api/v1/signin", s.signInInfo)
	m.Handle("GET "+Prefix+"api/v1/call", s.auth.Require(http.HandlerFunc(s.getCall)))
	m.Handle("POST "+Prefix+"api/v1/join", s.auth.Require(http.HandlerFunc(s.join)))
	m.Handle("POST "+Prefix+"api/v1/admit", s.auth.Require(s.action(func(ctx context.Context, sess widgetauth.Session, who rvideo.Identity, _ string) error {
		return opts.Calls.Admit(ctx, sess.Room, sess.User, who, webkit.RequestKey())
	})))
	m.Handle("POST "+Prefix+"api/v1/deny", s.auth.Require(s.action(func(ctx context.Context, sess widgetauth.Session, who rvideo.Identity, _ string) error {
		return opts.Calls.Deny(ctx, sess.Room, sess.User, who, webkit.RequestKey())
	})))
	m.Handle("POST "+Prefix+"api/v1/kick", s.auth.Require(s.action(func(ctx context.Context, sess widgetauth.Session, who rvideo.Identity, _ string) error {
		return opts.Calls.Kick(ctx, sess.Room, sess.User, who, webkit.RequestKey())
	})))
	m.Handle("POST "+Prefix+"api/v1/mute", s.auth.Require(s.action(func(ctx context.Context, sess widgetauth.Session, who rvideo.Identity, kind string) error {
		return opts.Calls.RequestMute(ctx, sess.Room, sess.User, who, kind)
	})))
	m.Handle("POST "+Prefix+"api/v1/end", s.auth.Require(s.action(func(ctx context.Context, sess widgetauth.Session, _ rvideo.Identity, _ string) error {
		return opts.Calls.End(ctx, sess.Room, sess.User, webkit.RequestKey())
	})))
	s.mux = m
	return s, nil
}

// refused are the answers of Check that mean "not this user here".
func refused(err error) bool {
	return errors.Is(err, cases.ErrNotCaseRoom) || errors.Is(err, cases.ErrNotCaseStaff) || errors.Is(err, rvideo.ErrNotStaff)
}

// ServeHTTP serves everything below Prefix.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	webkit.SetAPIHeaders(w)
	s.mux.ServeHTTP(w, r)
}

// servePage serves the page in the client's language.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	webkit.ServeRoomWidgetPage(w, r, s.page, map[string]string{
		"Permissions-Policy":      "camera=(self), microphone=(self), display-capture=(self)",
		"Content-Security-Policy": s.csp,
	})
}

// SignInInfo tells the page, opened outside a widget host, where the
// staff member signs in.
type SignInInfo struct {
	HomeserverURL string `json:"homeserver_url"`
}

// signInInfo answers where to sign in outside a widget host; 404
// not_found when nowhere (the page then asks to open it in Element).
func (s *Server) signInInfo(w http.ResponseWriter, _ *http.Request) {
	if s.opts.HomeserverURL == "" {
		httpapi.WriteError(w, httpapi.NewError(http.StatusNotFound, "not_found", "sign-in is possible only in a widget host"))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, SignInInfo{HomeserverURL: s.opts.HomeserverURL})
}

func session(r *http.Request) widgetauth.Session {
	sess, _ := widgetauth.FromContext(r.Context())
	return sess
}

func (s *Server) getCall(w http.ResponseWriter, r *http.Request) {
	sess := session(r)
	v, err := s.opts.Calls.StaffView(r.Context(), sess.Room, sess.User)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, callResponse(v))
}

func (s *Server) join(w http.ResponseWriter, r *http.Request) {
	sess := session(r)
	j, err := s.opts.Calls.StaffJoin(r.Context(), sess.Room, sess.User)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if j.TURN == nil {
		j.TURN = []rvideo.ICEServer{}
	}
	httpapi.WriteJSON(w, http.StatusOK, j)
}

// action decodes an ActionRequest, runs act and answers with the call.
func (s *Server) action(act func(ctx context.Context, sess widgetauth.Session, who rvideo.Identity, kind string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req ActionRequest
		if apiErr := httpapi.DecodeJSON(w, r, maxActionBody, &req); apiErr != nil {
			httpapi.WriteError(w, apiErr)
			return
		}
		if len(req.Identity) > 255 || (req.Kind != "" && req.Kind != "audio" && req.Kind != "video") {
			httpapi.WriteError(w, httpapi.NewError(http.StatusBadRequest, CodeBadRequest, "identity: at most 255 bytes; kind: audio or video"))
			return
		}
		who := rvideo.Identity(req.Identity)
		if who == "" {
			who = calls.CitizenIdentity
		}
		kind := req.Kind
		if kind == "" {
			kind = "audio"
		}
		sess := session(r)
		if err := act(r.Context(), sess, who, kind); err != nil {
			s.writeError(w, r, err)
			return
		}
		v, err := s.opts.Calls.StaffView(r.Context(), sess.Room, sess.User)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, callResponse(v))
	}
}

func callResponse(v *rvideo.StaffView) CallResponse {
	out := CallResponse{Running: v.Running, Waiting: []WaitingJSON{}, Participants: []ParticipantJSON{}}
	if v.Running {
		started := v.Started
		out.Started = &started
	}
	for _, k := range v.Waiting {
		out.Waiting = append(out.Waiting, WaitingJSON{Identity: string(k.Identity), Position: k.Position, Since: k.Since})
	}
	for _, p := range v.Participants {
		pj := ParticipantJSON{Identity: string(p.Identity), Role: p.Rights.Role, Publishing: p.Publishing,
			JoinedAt: p.JoinedAt}
		if q := p.Quality; q != nil {
			pj.Quality = &QualityJSON{RTTMillis: q.RTT.Milliseconds(), ReceiveLoss: q.ReceiveLoss,
				SendLoss: q.SendLoss, Poor: q.Poor()}
		}
		out.Participants = append(out.Participants, pj)
	}
	return out
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var apiErr *httpapi.Error
	switch {
	case errors.Is(err, cases.ErrNotCaseRoom):
		apiErr = httpapi.NewError(http.StatusNotFound, CodeNoCase, "this room is not a case room")
	case errors.Is(err, cases.ErrNotCaseStaff), errors.Is(err, rvideo.ErrNotStaff):
		apiErr = httpapi.NewError(http.StatusForbidden, widgetauth.CodeForbidden, "only the case's caseworkers may do this")
	case errors.Is(err, rvideo.ErrNoCall):
		apiErr = httpapi.NewError(http.StatusConflict, CodeNoCall, "no call is running")
	case errors.Is(err, rvideo.ErrNotWaiting):
		apiErr = httpapi.NewError(http.StatusConflict, CodeNotWaiting, "nobody of that identity is waiting")
	case errors.Is(err, rvideo.ErrCaseClosed):
		apiErr = httpapi.NewError(http.StatusConflict, CodeCaseEnded, "the case has ended")
	default:
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("Video page action failed")
		apiErr = httpapi.Unavailable("the action failed; try again")
	}
	httpapi.WriteError(w, apiErr)
}
