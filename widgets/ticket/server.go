package ticket

import (
	"context"
	"embed"
	"errors"
	"net/http"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/tickets"
	"github.com/rathaus-de/rathaus/widgets/internal/webkit"
	"github.com/rathaus-de/rathaus/widgets/internal/widgetauth"
)

// Tickets are the staff's ticket actions. *tickets.Service implements
// them; each checks the case of the room and the department's team.
type Tickets interface {
	// Check is called at sign-in and before each action (the Policy).
	Check(ctx context.Context, room id.RoomID, actor id.UserID) error
	Summary(ctx context.Context, room id.RoomID, actor id.UserID) (*tickets.Summary, error)
	SetStatus(ctx context.Context, room id.RoomID, actor id.UserID, st tickets.Status, key string) (*tickets.Summary, error)
	LinkExternalRef(ctx context.Context, room id.RoomID, actor id.UserID, ref string) (*tickets.Summary, error)
	RequestDocuments(ctx context.Context, room id.RoomID, actor id.UserID, template, key string) (*tickets.Template, error)
}

var _ Tickets = (*tickets.Service)(nil)

// StaffPowerLevel is the power level the widget's users need in the case
// room (tickets checks it again for each action).
const StaffPowerLevel = tickets.StaffPowerLevel

// Options configure New.
type Options struct {
	Tickets Tickets
	// Verifier checks OpenID tokens at the user's homeserver
	// (*openid.Verifier).
	Verifier widgetauth.Verifier
	// Bot answers membership and power level questions as the bot sees
	// the case room.
	Bot *mautrix.Client
	// IsAppserviceUser reports rathaus's own users (bot, citizen ghosts),
	// who never sign in.
	IsAppserviceUser func(id.UserID) bool
	// Proxies are the trusted reverse proxies (for the sign-in rate limit).
	Proxies *httpapi.TrustedProxies
	// Version is the build's version (asset URLs).
	Version string
	Log     zerolog.Logger
}

// Server serves the widget's page, assets and API below Prefix.
type Server struct {
	opts   Options
	auth   *widgetauth.Auth
	mux    *http.ServeMux
	assets *webkit.AssetServer
	page   string
}

//go:embed web/index.html web/assets/*.js web/assets/*.css
var webFiles embed.FS

// New builds the widget's server.
func New(opts Options) (*Server, error) {
	if opts.Tickets == nil || opts.Verifier == nil || opts.Bot == nil || opts.IsAppserviceUser == nil {
		return nil, errors.New("ticket widget: Tickets, Verifier, Bot and IsAppserviceUser are required")
	}
	s := &Server{opts: opts}
	policy := func(ctx context.Context, a widgetauth.Access) (bool, error) {
		if a.PowerLevel < StaffPowerLevel {
			return false, nil
		}
		err := opts.Tickets.Check(ctx, a.Room, a.User)
		if errors.Is(err, cases.ErrNotCaseRoom) || errors.Is(err, cases.ErrNotCaseStaff) || errors.Is(err, tickets.ErrNoTicket) ||
			errors.Is(err, tickets.ErrNotHandling) {
			return false, nil
		}
		return err == nil, err
	}
	var err error
	s.auth, err = widgetauth.New(widgetauth.Options{Widget: "ticket", Verifier: opts.Verifier,
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
	m.Handle("GET "+Prefix+"api/v1/ticket", s.auth.Require(http.HandlerFunc(s.getTicket)))
	m.Handle("POST "+Prefix+"api/v1/status", s.auth.Require(action(s, s.setStatus)))
	m.Handle("POST "+Prefix+"api/v1/external-ref", s.auth.Require(action(s, s.linkExternalRef)))
	m.Handle("POST "+Prefix+"api/v1/document-request", s.auth.Require(action(s, s.requestDocuments)))
	s.mux = m
	return s, nil
}

// ServeHTTP serves everything below Prefix.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	webkit.SetAPIHeaders(w)
	s.mux.ServeHTTP(w, r)
}

// servePage serves the page in the client's language.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	webkit.ServeRoomWidgetPage(w, r, s.page, nil)
}

// session is the checked session of an action.
func session(r *http.Request) widgetauth.Session {
	sess, _ := widgetauth.FromContext(r.Context())
	return sess
}

func (s *Server) getTicket(w http.ResponseWriter, r *http.Request) {
	sess := session(r)
	sum, err := s.opts.Tickets.Summary(r.Context(), sess.Room, sess.User)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, ticketResponse(sum))
}

// action is a POST handler: it decodes the body into a Req, runs act for
// the checked session and answers with act's result, or the error.
func action[Req, Resp any](s *Server, act func(r *http.Request, sess widgetauth.Session, req Req) (Resp, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if apiErr := httpapi.DecodeJSON(w, r, maxActionBody, &req); apiErr != nil {
			httpapi.WriteError(w, apiErr)
			return
		}
		resp, err := act(r, session(r), req)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, resp)
	}
}

func (s *Server) setStatus(r *http.Request, sess widgetauth.Session, req StatusRequest) (TicketResponse, error) {
	sum, err := s.opts.Tickets.SetStatus(r.Context(), sess.Room, sess.User, req.Status, webkit.RequestKey())
	return ticketResponse(sum), err
}

func (s *Server) linkExternalRef(r *http.Request, sess widgetauth.Session, req ExternalRefRequest) (TicketResponse, error) {
	sum, err := s.opts.Tickets.LinkExternalRef(r.Context(), sess.Room, sess.User, req.ExternalRef)
	return ticketResponse(sum), err
}

func (s *Server) requestDocuments(r *http.Request, sess widgetauth.Session, req DocumentRequest) (DocumentResponse, error) {
	tpl, err := s.opts.Tickets.RequestDocuments(r.Context(), sess.Room, sess.User, req.Template, webkit.RequestKey())
	if err != nil {
		return DocumentResponse{}, err
	}
	return DocumentResponse{Template: tpl.ID}, nil
}

// ticketResponse is a ticket's answer: its summary and the templates.
func ticketResponse(sum *tickets.Summary) TicketResponse {
	return TicketResponse{Summary: sum, Templates: tickets.Templates}
}

// writeError answers a refused or failed action.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var apiErr *httpapi.Error
	switch {
	case errors.Is(err, tickets.ErrNoTicket), errors.Is(err, cases.ErrNotCaseRoom):
		apiErr = httpapi.NewError(http.StatusNotFound, CodeNoTicket, "this room's case has no OZG ticket")
	case errors.Is(err, cases.ErrNotCaseStaff), errors.Is(err, tickets.ErrNotHandling):
		apiErr = httpapi.NewError(http.StatusForbidden, widgetauth.CodeForbidden, "only the department's team may do this")
	case errors.Is(err, tickets.ErrBadExternalRef):
		apiErr = httpapi.NewError(http.StatusBadRequest, CodeBadExternalRef, "external_ref: 1 to 64 of A-Z a-z 0-9 - _ . / : #")
	case errors.Is(err, tickets.ErrUnknownTemplate):
		apiErr = httpapi.NewError(http.StatusBadRequest, CodeUnknownTemplate, "template: not one of templates")
	case errors.Is(err, tickets.ErrUnknownStatus):
		apiErr = httpapi.NewError(http.StatusBadRequest, CodeUnknownStatus, "status: awaiting_citizen or resolved")
	case errors.Is(err, cases.ErrIllegalTransition):
		apiErr = httpapi.NewError(http.StatusConflict, CodeIllegalTransition, "the case's status does not allow this")
	case errors.Is(err, tickets.ErrCaseEnded):
		apiErr = httpapi.NewError(http.StatusConflict, CodeCaseEnded, "the case has ended")
	default:
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("Ticket widget action failed")
		apiErr = httpapi.Unavailable("the action failed; try again")
	}
	httpapi.WriteError(w, apiErr)
}
