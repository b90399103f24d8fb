package guestchat

import (
	"errors"
	"net/http"
	"time"

	"github.com/rathaus-de/rathaus/config"
)

// maxHeaderBytes bounds a request's headers. The chat's requests carry one
// small cookie and a CSRF header; Go's default is 1 MiB.
const maxHeaderBytes = 32 << 10

// minBodyRate is the slowest upload the body deadline allows for: a
// request gets guest_chat.timeouts.body plus one second per minBodyRate
// bytes it declares, so a 10 MiB file may take 320 s more.
const minBodyRate = 32 << 10

// multipartSlack is what a multipart upload may add to its file.
const multipartSlack = 64 << 10

// listenerTimeouts are guest_chat.timeouts and the largest body a request
// may declare, read at New.
type listenerTimeouts struct {
	readHeader, body, idle time.Duration
	maxBody                int64
}

func newListenerTimeouts(g config.GuestChatConfig) listenerTimeouts {
	t := g.Timeouts
	return listenerTimeouts{readHeader: t.ReadHeader, body: t.Body, idle: t.Idle,
		maxBody: max(maxJSONBody, g.MaxAttachmentBytes+multipartSlack)}
}

// bodyTimeout is how long a body of contentLength bytes (-1: unknown) may
// take to arrive.
func (t listenerTimeouts) bodyTimeout(contentLength int64) time.Duration {
	n := min(max(contentLength, 0), t.maxBody)
	return t.body + time.Duration(n/minBodyRate)*time.Second
}

// ConfigureServer sets the limits of the chat's listener on srv; call it
// before srv serves. There is no ReadTimeout or WriteTimeout: the first
// would cut off uploads of the allowed size on slow lines, the second every
// live stream. Instead withBodyDeadline gives each body a deadline by its
// size, and the stream sets a deadline per write.
func (s *Server) ConfigureServer(srv *http.Server) {
	srv.ReadHeaderTimeout = s.timeouts.readHeader
	srv.IdleTimeout = s.timeouts.idle
	srv.MaxHeaderBytes = maxHeaderBytes
}

// withBodyDeadline gives a request's body a read deadline by its declared
// size, so a body that never finishes does not hold its connection for
// ever. net/http lifts it once the body is read (before it reads on in the
// background to notice a closed connection), so a handler may work on for
// longer.
func (s *Server) withBodyDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			deadline := time.Now().Add(s.timeouts.bodyTimeout(r.ContentLength))
			if err := http.NewResponseController(w).SetReadDeadline(deadline); err != nil && !errors.Is(err, http.ErrNotSupported) {
				s.log.Warn().Err(err).Msg("Failed to set a guest request's body deadline")
			}
		}
		next.ServeHTTP(w, r)
	})
}
