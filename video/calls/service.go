// Package calls is the video capability of case rooms: it connects the
// media backend (video.Backend) and the lobby (video.Lobby) with cases and
// the Matrix room. A caseworker starts a call with `!rathaus video` or the
// staff call page; the citizen knocks from the guest chat page and waits
// until a caseworker admits them (command, reaction on the notice, or the
// staff page); every start, admission, denial, removal and end is a line
// in the case room. When the citizen's ghost or a caseworker leaves the
// room, or the case closes, they are out of the call within seconds.
package calls

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	mauas "maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/video"
)

// CitizenIdentity is the citizen's identity in their case's call: there
// is one citizen per case, and the media server never learns who it is.
const CitizenIdentity video.Identity = "citizen"

// Roles, as the other participants see them.
const (
	RoleStaff   = "staff"
	RoleCitizen = "citizen"
)

// Cases is what the call service needs of the case domain.
// *cases.Service implements it.
type Cases interface {
	// StaffCase is the room's case if user is on its department's team.
	StaffCase(ctx context.Context, room id.RoomID, user id.UserID) (*cases.Case, error)
	// Case is a case by id (the sweeper checks open calls' cases).
	Case(ctx context.Context, caseID protocol.CaseID) (*cases.Case, error)
}

var _ Cases = (*cases.Service)(nil)

// Muter is a backend that can ask a participant to mute.
type Muter interface {
	RequestMute(ctx context.Context, call video.CallID, who video.Identity, kind string) error
}

// Options configure New.
type Options struct {
	Backend video.Backend
	Cases   Cases
	// AS checks membership and power levels as the bot, and sets the
	// room's widget.
	AS *mauas.AppService
	// Sender sends the notices through the outbox.
	Sender *appservice.Sender
	// StaffPageURL is the staff call page for a room ("" if not served).
	StaffPageURL func(room id.RoomID) string
	// WidgetURL is the staff page as a room widget's URL template, or "".
	WidgetURL string
	Limits    video.Limits
	// GrantTTL is how long a grant is valid (default 10 min).
	GrantTTL time.Duration
	// WaitTimeout is how long a knock waits (default 30 min).
	WaitTimeout time.Duration
	// EmptyTimeout ends a running call once nobody has been in it or
	// waiting for this long (default 10 min).
	EmptyTimeout time.Duration
	// SweepInterval is how often open calls' cases are checked and
	// expired knocks are told (default 2 s).
	SweepInterval time.Duration
	// MatrixRTC, when set (LiveKit with rathaus as the MatrixRTC
	// authorization service), publishes the citizen's call membership as
	// their ghost (membership.go).
	MatrixRTC *MatrixRTCOptions
	Now       func() time.Time
	Log       zerolog.Logger
}

// Service is the call service.
type Service struct {
	opts  Options
	lobby *video.Lobby

	mu    sync.Mutex
	calls map[video.CallID]*callState
	// endedFor remembers for a while that a citizen's call ended, so the
	// page can say so instead of "no call".
	endedFor map[video.CallID]time.Time

	stop     chan struct{}
	stopOnce sync.Once
	unsub    func()

	members memberships

	// watchers hear of changes to a citizen's place in a call
	// (WatchCitizens); guarded by watchMu, not mu, since they are called
	// from the lobby's callbacks.
	watchMu  sync.Mutex
	watchers map[int]func(protocol.CaseID)
	watchID  int
}

// callState is what the service knows of one case's call.
type callState struct {
	id      video.CallID
	caseID  protocol.CaseID
	room    id.RoomID
	ghost   id.UserID
	ref     string
	running bool
	started time.Time
	// took are the identities that joined the media call, for the summary.
	took map[video.Identity]bool
	// waitingNotice is the notice "Bürger:in wartet …", for reactions.
	waitingNotice id.EventID
	citizenJoin   *video.JoinInfo
	// emptySince is when the running call was last seen with nobody in
	// it and nobody waiting (zero while someone is).
	emptySince time.Time
}

// CallID is the call of a case.
func CallID(caseID protocol.CaseID) video.CallID { return video.CallID(callPrefix + string(caseID)) }

const callPrefix = "case-"

// caseOf is the case of a call made by CallID.
func caseOf(call video.CallID) (protocol.CaseID, bool) {
	rest, ok := strings.CutPrefix(string(call), callPrefix)
	return protocol.CaseID(rest), ok && rest != ""
}

// New builds the service and starts its sweeper; Close stops it.
func New(opts Options) (*Service, error) {
	if opts.Backend == nil || opts.Cases == nil || opts.AS == nil || opts.Sender == nil {
		return nil, errors.New("calls: Backend, Cases, AS and Sender are required")
	}
	if opts.GrantTTL <= 0 || opts.GrantTTL > video.MaxGrantTTL {
		opts.GrantTTL = 10 * time.Minute
	}
	if opts.EmptyTimeout <= 0 {
		opts.EmptyTimeout = 10 * time.Minute
	}
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MatrixRTC != nil && opts.MatrixRTC.DelayedLeave <= 0 {
		m := *opts.MatrixRTC
		m.DelayedLeave = 30 * time.Second
		opts.MatrixRTC = &m
	}
	if opts.StaffPageURL == nil {
		opts.StaffPageURL = func(id.RoomID) string { return "" }
	}
	s := &Service{opts: opts, lobby: video.NewLobby(video.LobbyOptions{Now: opts.Now, MaxWait: opts.WaitTimeout}),
		calls: map[video.CallID]*callState{}, endedFor: map[video.CallID]time.Time{}, stop: make(chan struct{}),
		members: memberships{set: map[video.CallID]*membership{}}, watchers: map[int]func(protocol.CaseID){}}
	unsubBackend := opts.Backend.Subscribe(s.onBackendEvent)
	unsubLobby := s.lobby.Subscribe(s.onLobbyEvent)
	s.unsub = func() { unsubBackend(); unsubLobby() }
	go s.sweep()
	return s, nil
}

// Close stops the sweeper and the backend subscription; the calls end
// with the backend (embedded.Backend.Close).
func (s *Service) Close() {
	s.stopOnce.Do(func() {
		close(s.stop)
		s.unsub()
	})
}

// Lobby is the service's lobby (tests).
func (s *Service) Lobby() *video.Lobby { return s.lobby }

func (s *Service) state(c *cases.Case) *callState {
	call := CallID(c.ID)
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.calls[call]
	if st == nil {
		st = &callState{id: call, caseID: c.ID, room: c.RoomID, ghost: c.Ghost, ref: c.Reference, took: map[video.Identity]bool{}}
		s.calls[call] = st
	}
	return st
}

func (s *Service) existing(call video.CallID) *callState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[call]
}

// staffCase is the room's case for a team member who is joined to the
// room with the handling power level.
func (s *Service) staffCase(ctx context.Context, room id.RoomID, actor id.UserID) (*cases.Case, error) {
	c, err := s.opts.Cases.StaffCase(ctx, room, actor)
	if err != nil {
		return nil, err
	}
	ok, err := cases.JoinedWithLevel(ctx, s.opts.AS.BotIntent(), room, actor, cases.HandlingPowerLevel)
	if err != nil {
		return nil, err
	} else if !ok {
		return nil, video.ErrNotStaff
	}
	return c, nil
}

// Check is the staff page's policy: nil if actor may act on the room's
// call.
func (s *Service) Check(ctx context.Context, room id.RoomID, actor id.UserID) error {
	_, err := s.staffCase(ctx, room, actor)
	return err
}

// ensureRunning makes the case's call exist in the backend; the first
// time it posts the "Videoberatung läuft" notice and sets the widget.
func (s *Service) ensureRunning(ctx context.Context, c *cases.Case, actor id.UserID, key string) (*callState, error) {
	if !c.Status.Open() {
		return nil, video.ErrCaseClosed
	}
	st := s.state(c)
	if err := s.opts.Backend.EnsureCall(ctx, st.id, s.opts.Limits); err != nil {
		return nil, fmt.Errorf("failed to start the call: %w", err)
	}
	s.mu.Lock()
	first := !st.running
	if first {
		st.running, st.started = true, s.opts.Now()
	}
	s.mu.Unlock()
	if first {
		s.setWidget(ctx, c.RoomID)
		s.notice(ctx, c.RoomID, protocol.NoticeVideoStarted, key, startedText(s.opts.StaffPageURL(c.RoomID), actor))
		zerolog.Ctx(ctx).Info().Stringer("case_id", c.ID).Stringer("actor", actor).Msg("Started a video call")
	}
	return st, nil
}

// Start starts the room's call (`!rathaus video`, the staff page).
func (s *Service) Start(ctx context.Context, room id.RoomID, actor id.UserID, key string) error {
	c, err := s.staffCase(ctx, room, actor)
	if err != nil {
		return err
	}
	_, err = s.ensureRunning(ctx, c, actor, key)
	return err
}

// StaffView is the staff page's view of the room's call.
func (s *Service) StaffView(ctx context.Context, room id.RoomID, actor id.UserID) (*video.StaffView, error) {
	c, err := s.staffCase(ctx, room, actor)
	if err != nil {
		return nil, err
	}
	call := CallID(c.ID)
	v := &video.StaffView{Call: call, Waiting: s.lobby.Waiting(call)}
	if st := s.existing(call); st != nil {
		s.mu.Lock()
		v.Running, v.Started = st.running, st.started
		s.mu.Unlock()
	}
	if v.Running {
		if v.Participants, err = s.opts.Backend.Participants(ctx, call); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// StaffJoin starts the call if needed and grants actor a place in it.
func (s *Service) StaffJoin(ctx context.Context, room id.RoomID, actor id.UserID) (video.JoinInfo, error) {
	c, err := s.staffCase(ctx, room, actor)
	if err != nil {
		return video.JoinInfo{}, err
	}
	st, err := s.ensureRunning(ctx, c, actor, "")
	if err != nil {
		return video.JoinInfo{}, err
	}
	return s.opts.Backend.Grant(ctx, video.GrantRequest{Call: st.id, Identity: video.Identity(actor.String()),
		Rights: video.Rights{Publish: true, Subscribe: true, ScreenShare: true, Role: RoleStaff}, TTL: s.opts.GrantTTL})
}

// Admit lets who (the citizen) into the call; the call starts if it was
// not running.
func (s *Service) Admit(ctx context.Context, room id.RoomID, actor id.UserID, who video.Identity, key string) error {
	return s.decide(ctx, room, actor, who, key, true)
}

// Deny turns who away.
func (s *Service) Deny(ctx context.Context, room id.RoomID, actor id.UserID, who video.Identity, key string) error {
	return s.decide(ctx, room, actor, who, key, false)
}

func (s *Service) decide(ctx context.Context, room id.RoomID, actor id.UserID, who video.Identity, key string, admit bool) error {
	c, err := s.staffCase(ctx, room, actor)
	if err != nil {
		return err
	}
	call := CallID(c.ID)
	if admit {
		if _, err = s.ensureRunning(ctx, c, actor, key); err != nil {
			return err
		}
		if _, err = s.lobby.Admit(call, who, video.Identity(actor)); err != nil {
			return err
		}
		s.notice(ctx, room, protocol.NoticeVideoAdmitted, key, fmt.Sprintf(
			"Videoberatung: Bürger:in eingelassen von %s. / Video consultation: citizen admitted by %s.", actor, actor))
	} else {
		if _, err = s.lobby.Deny(call, who, video.Identity(actor)); err != nil {
			return err
		}
		s.notice(ctx, room, protocol.NoticeVideoDenied, key, fmt.Sprintf(
			"Videoberatung: Bürger:in nicht eingelassen (%s). / Video consultation: citizen not admitted (%s).", actor, actor))
	}
	zerolog.Ctx(ctx).Info().Stringer("case_id", c.ID).Stringer("actor", actor).Bool("admitted", admit).Msg("Decided on a knock")
	return nil
}

// Kick removes who from the call; their grant stops working.
func (s *Service) Kick(ctx context.Context, room id.RoomID, actor id.UserID, who video.Identity, key string) error {
	c, err := s.staffCase(ctx, room, actor)
	if err != nil {
		return err
	}
	call := CallID(c.ID)
	if st := s.existing(call); st == nil || !s.isRunning(st) {
		return video.ErrNoCall
	}
	s.remove(ctx, call, who)
	s.notice(ctx, room, protocol.NoticeVideoRemoved, key, fmt.Sprintf(
		"Videoberatung: %s aus dem Anruf entfernt von %s. / Video consultation: %s removed from the call by %s.",
		whoText(who), actor, whoText(who), actor))
	return nil
}

// RequestMute asks who's page to mute (the person decides).
func (s *Service) RequestMute(ctx context.Context, room id.RoomID, actor id.UserID, who video.Identity, kind string) error {
	c, err := s.staffCase(ctx, room, actor)
	if err != nil {
		return err
	}
	m, ok := s.opts.Backend.(Muter)
	if !ok {
		return errors.New("calls: the media backend cannot ask to mute")
	}
	return m.RequestMute(ctx, CallID(c.ID), who, kind)
}

// End ends the room's call for everyone and posts the summary.
func (s *Service) End(ctx context.Context, room id.RoomID, actor id.UserID, key string) error {
	c, err := s.staffCase(ctx, room, actor)
	if err != nil {
		return err
	}
	if !s.end(ctx, CallID(c.ID), actor.String(), key) {
		return video.ErrNoCall
	}
	return nil
}

func (s *Service) isRunning(st *callState) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return st.running
}

// remove takes who out of the call and the lobby.
func (s *Service) remove(ctx context.Context, call video.CallID, who video.Identity) {
	s.lobby.Withdraw(call, who)
	if who == CitizenIdentity {
		s.mu.Lock()
		if st := s.calls[call]; st != nil {
			st.citizenJoin = nil
		}
		s.mu.Unlock()
	}
	if err := s.opts.Backend.Kick(ctx, call, who); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("Failed to remove a participant from a call")
	}
}

// end ends a call: everyone out, lobby gone, summary posted. by is the
// actor's user id, byClosed or byEmpty. It reports whether a call was
// running.
func (s *Service) end(ctx context.Context, call video.CallID, by, key string) bool {
	s.mu.Lock()
	st := s.calls[call]
	delete(s.calls, call)
	hadCitizen := false
	if st != nil {
		hadCitizen = st.took[CitizenIdentity]
	}
	s.mu.Unlock()
	if k, ok := s.lobby.Status(call, CitizenIdentity); ok && (k.State == video.KnockWaiting || k.State == video.KnockAdmitted) {
		hadCitizen = true
	}
	s.lobby.End(call)
	if hadCitizen {
		s.mu.Lock()
		s.endedFor[call] = s.opts.Now()
		s.mu.Unlock()
		s.citizenChanged(call)
	}
	if st == nil || !st.running {
		return false
	}
	if err := s.opts.Backend.EndCall(ctx, call); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("Failed to end a call in the media backend")
	}
	s.notice(ctx, st.room, protocol.NoticeVideoEnded, key, summaryText(st, by, s.opts.Now()))
	zerolog.Ctx(ctx).Info().Stringer("case_id", st.caseID).Str("by", by).Msg("Ended a video call")
	return true
}

// onBackendEvent records who took part, for the summary, and follows the
// citizen's call membership.
func (s *Service) onBackendEvent(e video.Event) {
	s.onCitizenMedia(e)
	if e.Kind != video.EventJoined {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.calls[e.Call]; st != nil {
		st.took[e.Identity] = true
	}
}

// sweep expires knocks and ends calls whose case is no longer open, as a
// safety net under the room events that do it at once.
func (s *Service) sweep() {
	t := time.NewTicker(s.opts.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.lobby.Sweep()
		ctx := s.opts.Log.WithContext(context.Background())
		s.restartDelayed(ctx)
		s.mu.Lock()
		var open []*callState
		for _, st := range s.calls {
			open = append(open, st)
		}
		for call, at := range s.endedFor {
			if s.opts.Now().Sub(at) > 10*time.Minute {
				delete(s.endedFor, call)
			}
		}
		s.mu.Unlock()
		for _, st := range open {
			c, err := s.opts.Cases.Case(ctx, st.caseID)
			if err != nil {
				continue
			}
			if c == nil || !c.Status.Open() || c.RoomID != st.room {
				s.end(ctx, st.id, byClosed, "")
				continue
			}
			if s.emptyTooLong(ctx, st) {
				s.end(ctx, st.id, byEmpty, "")
			}
		}
	}
}

// The actors of ends that no person asked for.
const (
	byClosed = "system"       // the case closed, or the room was left
	byEmpty  = "system:empty" // nobody in the call or waiting for EmptyTimeout
)

// emptyTooLong reports whether a running call has had nobody in it and
// nobody waiting for EmptyTimeout.
func (s *Service) emptyTooLong(ctx context.Context, st *callState) bool {
	if !s.isRunning(st) {
		return false
	}
	ps, err := s.opts.Backend.Participants(ctx, st.id)
	if err != nil {
		return false
	}
	waiting := len(s.lobby.Waiting(st.id)) // not under s.mu: the lobby calls back
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(ps) > 0 || waiting > 0 {
		st.emptySince = time.Time{}
		return false
	}
	if st.emptySince.IsZero() {
		st.emptySince = now
	}
	return now.Sub(st.emptySince) >= s.opts.EmptyTimeout
}

func whoText(who video.Identity) string {
	if who == CitizenIdentity {
		return "Bürger:in / citizen"
	}
	return string(who)
}
