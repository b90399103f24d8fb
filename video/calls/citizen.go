package calls

import (
	"context"
	"errors"
	"time"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/video"
)

// The citizen's side, called by the guest chat's API with the session's
// case: knock, look, leave. The citizen never starts a call and is never
// admitted by the service itself.

// grantRefresh is how long before its expiry a cached grant is replaced.
const grantRefresh = time.Minute

// CitizenKnock puts the citizen into the lobby of their case's call. The
// first knock (and each after a denial, expiry or hang-up) tells the case
// room, with the commands and reactions that admit or deny.
func (s *Service) CitizenKnock(ctx context.Context, c *cases.Case) (video.CitizenView, error) {
	if !c.Status.Open() || c.RoomID == "" {
		return video.CitizenView{}, video.ErrCaseClosed
	}
	call := CallID(c.ID)
	before, had := s.lobby.Status(call, CitizenIdentity)
	k, err := s.lobby.Knock(call, CitizenIdentity)
	if err != nil {
		return video.CitizenView{}, err
	}
	s.mu.Lock()
	delete(s.endedFor, call)
	s.mu.Unlock()
	if !had || (before.State != video.KnockWaiting && before.State != video.KnockAdmitted) {
		st := s.state(c)
		key := "knock." + k.Since.Format(time.RFC3339Nano)
		evt := s.notice(ctx, c.RoomID, protocol.NoticeVideoWaiting, key, waitingText)
		s.mu.Lock()
		st.waitingNotice = evt
		s.mu.Unlock()
		zerolog.Ctx(ctx).Info().Stringer("case_id", c.ID).Msg("Citizen knocked on the video call")
	}
	return s.CitizenView(ctx, c)
}

// CitizenView is the citizen's state in the case's call; admitted, it
// carries the grant to join (the same one while it is fresh).
func (s *Service) CitizenView(ctx context.Context, c *cases.Case) (video.CitizenView, error) {
	call := CallID(c.ID)
	k, ok := s.lobby.Status(call, CitizenIdentity)
	v := video.CitizenView{State: video.CitizenNone}
	if st := s.existing(call); st != nil && s.isRunning(st) {
		ps, err := s.opts.Backend.Participants(ctx, call)
		if err != nil {
			return v, err
		}
		for _, p := range ps {
			v.StaffPresent = v.StaffPresent || p.Rights.Role == RoleStaff
		}
	}
	if !ok || k.State == video.KnockLeft {
		s.mu.Lock()
		_, ended := s.endedFor[call]
		s.mu.Unlock()
		if ended {
			v.State = video.CitizenEnded
		}
		return v, nil
	}
	switch k.State {
	case video.KnockWaiting:
		v.State, v.Position = video.CitizenWaiting, k.Position
	case video.KnockDenied:
		v.State = video.CitizenDenied
	case video.KnockExpired:
		v.State = video.CitizenExpired
	case video.KnockAdmitted:
		if !c.Status.Open() {
			v.State = video.CitizenEnded
			return v, nil
		}
		join, err := s.citizenGrant(ctx, call)
		if errors.Is(err, video.ErrNoCall) {
			v.State = video.CitizenEnded
			return v, nil
		} else if err != nil {
			return v, err
		}
		v.State, v.Join = video.CitizenAdmitted, join
	default:
	}
	return v, nil
}

func (s *Service) citizenGrant(ctx context.Context, call video.CallID) (*video.JoinInfo, error) {
	s.mu.Lock()
	st := s.calls[call]
	var cached *video.JoinInfo
	if st != nil {
		cached = st.citizenJoin
	}
	s.mu.Unlock()
	if st == nil {
		return nil, video.ErrNoCall
	}
	if cached != nil && s.opts.Now().Add(grantRefresh).Before(cached.Expires) {
		return cached, nil
	}
	join, err := s.opts.Backend.Grant(ctx, video.GrantRequest{Call: call, Identity: CitizenIdentity,
		Rights: video.Rights{Publish: true, Subscribe: true, Role: RoleCitizen}, TTL: s.opts.GrantTTL})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	st.citizenJoin = &join
	s.mu.Unlock()
	return &join, nil
}

// CitizenLeave is the page's "Abbrechen" or hang-up: out of the lobby
// and the call, and the grant stops working.
func (s *Service) CitizenLeave(ctx context.Context, c *cases.Case) error {
	call := CallID(c.ID)
	if _, ok := s.lobby.Status(call, CitizenIdentity); !ok {
		return nil
	}
	s.remove(ctx, call, CitizenIdentity)
	return nil
}

// WatchCitizens calls fn with the case whenever the citizen's place in
// its call changes: knocked, admitted, denied, expired, left, or the call
// ended while the citizen waited or took part. The guest page's event
// stream passes this on, so a waiting citizen joins the moment a
// caseworker admits instead of at the page's next poll. fn runs outside
// the service's locks and must not block.
func (s *Service) WatchCitizens(fn func(protocol.CaseID)) (unsubscribe func()) {
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	n := s.watchID
	s.watchID++
	s.watchers[n] = fn
	return func() {
		s.watchMu.Lock()
		defer s.watchMu.Unlock()
		delete(s.watchers, n)
	}
}

// onLobbyEvent passes the citizen's knock changes to the watchers.
func (s *Service) onLobbyEvent(e video.LobbyEvent) {
	if e.Knock.Identity == CitizenIdentity {
		s.citizenChanged(e.Knock.Call)
	}
}

// citizenChanged tells the watchers that the citizen's state in call
// changed.
func (s *Service) citizenChanged(call video.CallID) {
	caseID, ok := caseOf(call)
	if !ok {
		return
	}
	s.watchMu.Lock()
	fns := make([]func(protocol.CaseID), 0, len(s.watchers))
	for _, fn := range s.watchers {
		fns = append(fns, fn)
	}
	s.watchMu.Unlock()
	for _, fn := range fns {
		fn(caseID)
	}
}
