package matrixrtc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/video"
)

// A MatrixRTC client publishes its call membership together with a
// delayed "leave" (MSC4140): an empty membership the homeserver sends by
// itself unless the client restarts the delay in time. A client about to
// lose its connection hands that delayed event over (delegates it):
// rathaus then restarts it while the client's LiveKit participant is in
// the call and sends it the moment LiveKit reports the participant gone,
// so the others see the leave at once instead of after the timeout.
//
// rathaus manages delayed events only on its own homeserver, for its
// users: delay_cs_api_url must be that homeserver's client API (anything
// else would let a caller make rathaus post to any URL).

// LeavesOptions configure NewLeaves.
type LeavesOptions struct {
	// HomeserverURLs are the client API base URLs of rathaus's homeserver
	// a client may name as delay_cs_api_url (the internal and the public
	// one).
	HomeserverURLs []string
	// ServerName is the homeserver's server name: only its users may
	// delegate.
	ServerName string
	// ASToken authenticates rathaus's management requests. MSC4140 does
	// not require it (the delay id is the secret), but Synapse then rate
	// limits by address, and rathaus asks for many users from one.
	ASToken string
	// Participants tells whether the identity is in the call (the
	// backend); Subscribe delivers the backend's events.
	Backend video.Backend
	// JoinWait is how long a delegation waits for its participant to
	// show up in the call before it gives up (default 60 s); the
	// homeserver then sends the leave after its own timeout.
	JoinWait   time.Duration
	HTTPClient *http.Client
	Log        zerolog.Logger
}

// Leaves runs the delegated delayed leaves.
type Leaves struct {
	opts    LeavesOptions
	allowed map[string]string // normalized base URL → as given
	unsub   func()

	mu   sync.Mutex
	jobs map[leaveKey]*leaveJob
	wg   sync.WaitGroup
	done chan struct{}
	once sync.Once
}

type leaveKey struct {
	call     video.CallID
	identity string
}

type leaveJob struct {
	delayID string
	timeout time.Duration
	base    string
	gone    chan struct{} // closed when the participant left
	stop    chan struct{} // closed when replaced or closing
	seen    bool          // the participant was seen in the call
}

// NewLeaves starts taking the backend's events; Close stops all jobs.
func NewLeaves(opts LeavesOptions) (*Leaves, error) {
	if opts.Backend == nil || opts.ServerName == "" || len(opts.HomeserverURLs) == 0 {
		return nil, fmt.Errorf("matrixrtc: delegated leaves need the backend, the server name and the homeserver's URL")
	}
	if opts.JoinWait <= 0 {
		opts.JoinWait = time.Minute
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	l := &Leaves{opts: opts, allowed: map[string]string{}, jobs: map[leaveKey]*leaveJob{}, done: make(chan struct{})}
	for _, u := range opts.HomeserverURLs {
		if n, ok := normalizeURL(u); ok {
			l.allowed[n] = strings.TrimSuffix(u, "/")
		}
	}
	l.unsub = opts.Backend.Subscribe(l.onEvent)
	return l, nil
}

func normalizeURL(raw string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) + strings.TrimSuffix(u.EscapedPath(), "/"), true
}

// Close stops all jobs (the homeserver sends the leaves after their
// timeouts) and waits for them.
func (l *Leaves) Close() {
	l.once.Do(func() {
		l.unsub()
		close(l.done)
	})
	l.wg.Wait()
}

func (l *Leaves) onEvent(e video.Event) {
	if e.Kind != video.EventLeft && e.Kind != video.EventKicked && e.Kind != video.EventEnded && e.Kind != video.EventJoined {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, j := range l.jobs {
		if k.call != e.Call {
			continue
		}
		mine := k.identity == string(e.Identity) || (e.Kind == video.EventKicked && strings.HasPrefix(k.identity, string(e.Identity)+":"))
		switch {
		case e.Kind == video.EventEnded, mine && e.Kind != video.EventJoined:
			delete(l.jobs, k)
			close(j.gone)
		case mine:
			j.seen = true
		}
	}
}

var (
	errForeignHomeserver = httpapi.NewError(http.StatusForbidden, "M_FORBIDDEN",
		"rathaus manages delayed leaves only on its own homeserver, for its users")
	errLeavesOff = httpapi.NewError(http.StatusNotImplemented, "M_UNRECOGNIZED", "delayed leave delegation is not configured")
)

// delegate registers a delegation, replacing one of the same participant.
func (s *Service) delegate(_ context.Context, user id.UserID, call video.CallID, identity string, d delayFields, log *zerolog.Logger) *httpapi.Error {
	l := s.opts.Leaves
	if l == nil {
		return errLeavesOff
	}
	n, ok := normalizeURL(d.DelayCSAPIURL)
	base, allowed := l.allowed[n]
	if !ok || !allowed || user.Homeserver() != l.opts.ServerName {
		log.Info().Msg("Delayed leave refused: not rathaus's homeserver")
		return errForeignHomeserver
	}
	if len(d.DelayID) > 255 || strings.ContainsAny(d.DelayID, "/?#% ") {
		return badJSON("delay_id is not a delay id")
	}
	timeout := time.Duration(d.DelayTimeout) * time.Millisecond
	j := &leaveJob{delayID: d.DelayID, timeout: timeout, base: base, gone: make(chan struct{}), stop: make(chan struct{})}
	key := leaveKey{call: call, identity: identity}
	l.mu.Lock()
	if old := l.jobs[key]; old != nil {
		close(old.stop)
	}
	l.jobs[key] = j
	l.wg.Add(1)
	l.mu.Unlock()
	go l.run(key, j)
	log.Info().Str("call", string(call)).Dur("delay", timeout).Msg("Took over a delayed leave")
	return nil
}

// run restarts the delayed event at half its timeout while the
// participant is (or may still come) in the call, and sends it when the
// participant is gone.
func (l *Leaves) run(key leaveKey, j *leaveJob) {
	defer l.wg.Done()
	log := l.opts.Log.With().Str("call", string(key.call)).Logger()
	every := max(j.timeout/2, 500*time.Millisecond)
	tick := time.NewTicker(every)
	defer tick.Stop()
	giveUp := time.After(l.opts.JoinWait)
	for {
		select {
		case <-j.gone:
			if err := l.action(j, "send"); err != nil {
				log.Warn().Err(err).Msg("Failed to send a delegated delayed leave; the homeserver sends it after its timeout")
			} else {
				log.Info().Msg("Sent a delegated delayed leave")
			}
			return
		case <-j.stop:
			return
		case <-l.done:
			return
		case <-giveUp:
			l.mu.Lock()
			seen := j.seen
			l.mu.Unlock()
			if !seen && !l.present(key) {
				l.forget(key, j)
				log.Info().Msg("A delegated leave's participant never joined; left to the homeserver's timeout")
				return
			}
			giveUp = nil
		case <-tick.C:
			if err := l.action(j, "restart"); err != nil {
				// Gone at the homeserver (sent, cancelled, expired):
				// nothing left to manage.
				l.forget(key, j)
				log.Info().Err(err).Msg("Stopped managing a delayed leave")
				return
			}
		}
	}
}

func (l *Leaves) present(key leaveKey) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	parts, err := l.opts.Backend.Participants(ctx, key.call)
	if err != nil {
		return true // cannot tell: keep managing
	}
	for _, p := range parts {
		if string(p.Identity) == key.identity {
			return true
		}
	}
	return false
}

func (l *Leaves) forget(key leaveKey, j *leaveJob) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.jobs[key] == j {
		delete(l.jobs, key)
	}
}

// action posts MSC4140's delayed event management request.
func (l *Leaves) action(j *leaveJob, action string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u := j.base + "/_matrix/client/unstable/org.matrix.msc4140/delayed_events/" + url.PathEscape(j.delayID)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader([]byte(`{"action":"`+action+`"}`)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if l.opts.ASToken != "" {
		req.Header.Set("Authorization", "Bearer "+l.opts.ASToken)
	}
	resp, err := l.opts.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the homeserver answered %d to %s", resp.StatusCode, action)
	}
	return nil
}

// DelegateRequest is the body of /delegate_delayed_leave.
type DelegateRequest struct {
	RoomID      string      `json:"room_id"`
	SlotID      string      `json:"slot_id"`
	OpenIDToken OpenIDToken `json:"openid_token"`
	Member      Member      `json:"member"`
	delayFields
}

func (s *Service) delegateDelayedLeave(w http.ResponseWriter, r *http.Request) {
	var req DelegateRequest
	if e := decode(w, r, &req); e != nil {
		httpapi.WriteError(w, e)
		return
	}
	tr := TokenRequest{RoomID: req.RoomID, SlotID: req.SlotID, OpenIDToken: req.OpenIDToken, Member: req.Member}
	if e := tr.validate(); e != nil {
		httpapi.WriteError(w, e)
		return
	}
	if e := req.validate(true); e != nil {
		httpapi.WriteError(w, e)
		return
	}
	if s.opts.Leaves == nil {
		httpapi.WriteError(w, errLeavesOff)
		return
	}
	log := s.opts.Log.With().Str("room_id", req.RoomID).Logger()
	user, call, apiErr := s.authorize(r.Context(), id.RoomID(req.RoomID), req.SlotID, req.OpenIDToken, req.Member.ClaimedUserID, &log)
	if apiErr != nil {
		httpapi.WriteError(w, apiErr)
		return
	}
	identity := user.String() + ":" + req.Member.ClaimedDeviceID
	if apiErr := s.delegate(r.Context(), user, call, identity, req.delayFields, &log); apiErr != nil {
		httpapi.WriteError(w, apiErr)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, struct{}{})
}
