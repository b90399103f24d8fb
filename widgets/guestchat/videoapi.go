package guestchat

import (
	"context"
	"errors"
	"net/http"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/video"
	"github.com/rathaus-de/rathaus/video/calls"
)

// Video is the case's video call as the citizen's page sees it: knock,
// look, leave. The page never starts a call, and nothing here admits.
// *calls.Service implements it.
type Video interface {
	CitizenKnock(ctx context.Context, c *cases.Case) (video.CitizenView, error)
	CitizenView(ctx context.Context, c *cases.Case) (video.CitizenView, error)
	CitizenLeave(ctx context.Context, c *cases.Case) error
	// WatchCitizens calls fn with the case when the citizen's state in
	// its call changed (a caseworker admitted or denied, the wait expired,
	// the call ended); the case's event stream then sends a "video" event
	// and the page fetches its view at once.
	WatchCitizens(fn func(protocol.CaseID)) (unsubscribe func())
}

var _ Video = (*calls.Service)(nil)

// The errcodes of the video routes.
const (
	// CodeVideoCaseEnded (409): the case is over; no call.
	CodeVideoCaseEnded = "video_case_ended"
	// CodeKnockTooSoon (429): denied a moment ago.
	CodeKnockTooSoon = "knock_too_soon"
	// CodeTooManyKnocks (429): knocked too often on this call.
	CodeTooManyKnocks = "too_many_knocks"
)

func (s *Server) videoKnock(w http.ResponseWriter, r *http.Request, gs *Session, c *cases.Case) {
	if s.video == nil {
		httpapi.WriteError(w, httpapi.ErrNotFound)
		return
	}
	if ok, retry := s.signals.Allow(gs.TokenHash); !ok {
		httpapi.WriteError(w, httpapi.RateLimited(retry))
		return
	}
	v, err := s.video.CitizenKnock(r.Context(), c)
	s.writeVideo(w, r, v, err)
}

func (s *Server) videoView(w http.ResponseWriter, r *http.Request, _ *Session, c *cases.Case) {
	if s.video == nil {
		httpapi.WriteError(w, httpapi.ErrNotFound)
		return
	}
	v, err := s.video.CitizenView(r.Context(), c)
	s.writeVideo(w, r, v, err)
}

func (s *Server) videoLeave(w http.ResponseWriter, r *http.Request, _ *Session, c *cases.Case) {
	if s.video == nil {
		httpapi.WriteError(w, httpapi.ErrNotFound)
		return
	}
	if err := s.video.CitizenLeave(r.Context(), c); err != nil {
		s.internal(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) writeVideo(w http.ResponseWriter, r *http.Request, v video.CitizenView, err error) {
	switch {
	case err == nil:
		w.Header().Set("Cache-Control", "no-store")
		httpapi.WriteJSON(w, http.StatusOK, v)
	case errors.Is(err, video.ErrCaseClosed):
		httpapi.WriteError(w, httpapi.NewError(http.StatusConflict, CodeVideoCaseEnded, "the case is over"))
	case errors.Is(err, video.ErrKnockTooSoon):
		httpapi.WriteError(w, httpapi.NewError(http.StatusTooManyRequests, CodeKnockTooSoon, "denied a moment ago; knock again later"))
	case errors.Is(err, video.ErrTooManyKnocks):
		httpapi.WriteError(w, httpapi.NewError(http.StatusTooManyRequests, CodeTooManyKnocks, "knocked too often on this call"))
	default:
		s.internal(w, r, err)
	}
}
