package calls

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/video"
)

// The citizen in a native call: when calls run on LiveKit and rathaus is
// the MatrixRTC authorization service, the citizen joins LiveKit as their
// ghost's call device ("@ghost:server:RATHAUSVIDEO") and rathaus publishes
// the ghost's MatrixRTC call membership (org.matrix.msc3401.call.member)
// while they are in the call, so Element shows them as a member of the
// call and renders their LiveKit tile. The membership is set when LiveKit
// reports the citizen joined and cleared ({}) when it reports them gone,
// or the call ends. Where the homeserver has delayed events (MSC4140),
// a delayed clearing is scheduled with it and restarted while the citizen
// is in the call: if rathaus stops, the homeserver clears it by itself.
// Whether it has them is learnt by asking: the delayed clearing is sent
// first, and a homeserver without delayed events (Dendrite) ignores the
// unknown query parameter and clears the (still empty) membership at
// once, answering without a delay id.

// CitizenDevice is the device id of the citizen's call membership.
const CitizenDevice = "RATHAUSVIDEO"

// CallMemberType is MatrixRTC's call membership state event.
var CallMemberType = event.Type{Type: "org.matrix.msc3401.call.member", Class: event.StateEventType}

// MatrixRTCOptions turn on the citizen's call membership.
type MatrixRTCOptions struct {
	// ServiceURL is rathaus's MatrixRTC authorization service, the
	// membership's preferred focus.
	ServiceURL string
	// DelayedLeave is the delay of the scheduled clearing (default 30 s);
	// it is restarted at a third of it.
	DelayedLeave time.Duration
}

// membership is the citizen's published call membership in one call.
type membership struct {
	room    id.RoomID
	ghost   id.UserID
	delayID id.DelayID
	restart time.Time
}

type memberships struct {
	mu  sync.Mutex
	set map[video.CallID]*membership
}

// stateKey is the membership's state key: MSC4143's "_" + user + "_" + device.
func stateKey(ghost id.UserID) string { return "_" + ghost.String() + "_" + CitizenDevice }

// MediaIdentity is a participant's LiveKit identity (livekit.Options
// Alias): the citizen's ghost's call device when memberships are on.
func (s *Service) MediaIdentity(call video.CallID, who video.Identity) string {
	if s.opts.MatrixRTC == nil || who != CitizenIdentity {
		return ""
	}
	st := s.existing(call)
	if st == nil || st.ghost == "" {
		return ""
	}
	return st.ghost.String() + ":" + CitizenDevice
}

// membershipContent is the session membership Element Call publishes
// (MSC4143 in its legacy per-device form), naming rathaus's service.
func (s *Service) membershipContent(room id.RoomID) map[string]any {
	return map[string]any{
		"application":    "m.call",
		"call_id":        "",
		"scope":          "m.room",
		"device_id":      CitizenDevice,
		"expires":        (4 * time.Hour).Milliseconds(),
		"m.call.intent":  "video",
		"focus_active":   map[string]any{"type": "livekit", "focus_selection": "oldest_membership"},
		"foci_preferred": []any{map[string]any{"type": "livekit", "livekit_service_url": s.opts.MatrixRTC.ServiceURL, "livekit_alias": room.String()}},
	}
}

// onCitizenMedia follows the citizen in and out of LiveKit.
func (s *Service) onCitizenMedia(e video.Event) {
	if s.opts.MatrixRTC == nil {
		return
	}
	ctx := s.opts.Log.WithContext(context.Background())
	switch {
	case e.Kind == video.EventJoined && e.Identity == CitizenIdentity:
		st := s.existing(e.Call)
		if st != nil && st.ghost != "" {
			go s.publishMembership(ctx, e.Call, st.room, st.ghost)
		}
	case e.Kind == video.EventEnded, (e.Kind == video.EventLeft || e.Kind == video.EventKicked) && e.Identity == CitizenIdentity:
		go s.clearMembership(ctx, e.Call)
	}
}

func (s *Service) publishMembership(ctx context.Context, call video.CallID, room id.RoomID, ghost id.UserID) {
	intent := s.opts.AS.Intent(ghost)
	m := &membership{room: room, ghost: ghost}
	o := s.opts.MatrixRTC
	resp, err := intent.SendStateEvent(ctx, room, CallMemberType, stateKey(ghost), map[string]any{},
		mautrix.ReqSendEvent{UnstableDelay: o.DelayedLeave})
	switch {
	case err != nil:
		zerolog.Ctx(ctx).Info().Err(err).Str("call", string(call)).Msg("No delayed leave for the citizen's call membership; it is cleared when LiveKit reports them gone")
	case resp.UnstableDelayID != "":
		m.delayID, m.restart = resp.UnstableDelayID, s.opts.Now().Add(o.DelayedLeave/3)
	}
	if _, err := intent.SendStateEvent(ctx, room, CallMemberType, stateKey(ghost), s.membershipContent(room)); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("call", string(call)).Msg("Failed to publish the citizen's call membership")
		if m.delayID != "" {
			s.cancelDelayed(ctx, m)
		}
		return
	}
	s.members.mu.Lock()
	old := s.members.set[call]
	s.members.set[call] = m
	s.members.mu.Unlock()
	if old != nil && old.delayID != "" && old.delayID != m.delayID {
		s.cancelDelayed(ctx, old)
	}
	zerolog.Ctx(ctx).Info().Str("call", string(call)).Bool("delayed_leave", m.delayID != "").Msg("Published the citizen's call membership")
}

func (s *Service) clearMembership(ctx context.Context, call video.CallID) {
	s.members.mu.Lock()
	m := s.members.set[call]
	delete(s.members.set, call)
	s.members.mu.Unlock()
	if m == nil {
		return
	}
	if m.delayID != "" {
		// Send the scheduled clearing now: one event, and the delay is
		// used up.
		_, err := s.opts.AS.Intent(m.ghost).UpdateDelayedEvent(ctx, &mautrix.ReqUpdateDelayedEvent{DelayID: m.delayID, Action: event.DelayActionSend})
		if err == nil {
			zerolog.Ctx(ctx).Info().Str("call", string(call)).Msg("Cleared the citizen's call membership")
			return
		}
	}
	if _, err := s.opts.AS.Intent(m.ghost).SendStateEvent(ctx, m.room, CallMemberType, stateKey(m.ghost), map[string]any{}); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("call", string(call)).Msg("Failed to clear the citizen's call membership")
		return
	}
	zerolog.Ctx(ctx).Info().Str("call", string(call)).Msg("Cleared the citizen's call membership")
}

func (s *Service) cancelDelayed(ctx context.Context, m *membership) {
	_, _ = s.opts.AS.Intent(m.ghost).UpdateDelayedEvent(ctx, &mautrix.ReqUpdateDelayedEvent{DelayID: m.delayID, Action: event.DelayActionCancel})
}

// restartDelayed keeps the scheduled clearings from firing while the
// citizens are in their calls (the sweeper calls it).
func (s *Service) restartDelayed(ctx context.Context) {
	o := s.opts.MatrixRTC
	if o == nil {
		return
	}
	now := s.opts.Now()
	s.members.mu.Lock()
	var due []*membership
	for _, m := range s.members.set {
		if m.delayID != "" && !now.Before(m.restart) {
			m.restart = now.Add(o.DelayedLeave / 3)
			due = append(due, m)
		}
	}
	s.members.mu.Unlock()
	for _, m := range due {
		if _, err := s.opts.AS.Intent(m.ghost).UpdateDelayedEvent(ctx, &mautrix.ReqUpdateDelayedEvent{DelayID: m.delayID, Action: event.DelayActionRestart}); err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("Failed to restart the citizen's delayed leave")
		}
	}
}
