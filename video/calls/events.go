package calls

import (
	"context"
	"slices"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/bot"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/video"
)

// Register declares the commands and follows the case rooms' events.
func (s *Service) Register(r *bot.Router) error {
	r.OnRoomEvent(bot.RoomCase, s.handleRoomEvent)
	return r.Register(s.Commands()...)
}

// handleRoomEvent acts on what the case room says: someone left (out of
// the call), the case ended (the call ends), a caseworker reacted to the
// waiting notice (admit or deny).
func (s *Service) handleRoomEvent(ctx context.Context, evt *event.Event, room bot.RoomInfo) error {
	call := CallID(protocol.CaseID(room.Key))
	st := s.existing(call)
	if st == nil || st.room != evt.RoomID {
		return nil
	}
	switch evt.Type {
	case event.StateMember:
		s.onMember(ctx, st, evt)
	case protocol.CaseEventType:
		if c, ok := evt.Content.Parsed.(*protocol.CaseContent); ok && !c.Status.Open() {
			s.end(ctx, call, byClosed, evt.ID.String())
		}
	case event.EventReaction:
		s.onReaction(ctx, st, evt)
	}
	return nil
}

func (s *Service) onMember(ctx context.Context, st *callState, evt *event.Event) {
	m := evt.Content.AsMember().Membership
	if m != event.MembershipLeave && m != event.MembershipBan {
		return
	}
	target := id.UserID(evt.GetStateKey())
	c, err := s.opts.Cases.Case(ctx, st.caseID)
	if err != nil || c == nil {
		return
	}
	who := video.Identity(target)
	if target == c.Ghost {
		who = CitizenIdentity
	}
	zerolog.Ctx(ctx).Info().Stringer("case_id", st.caseID).Msg("A participant left the case room; removing them from the call")
	s.remove(ctx, st.id, who)
}

func (s *Service) onReaction(ctx context.Context, st *callState, evt *event.Event) {
	rel := evt.Content.AsReaction().GetRelatesTo()
	s.mu.Lock()
	notice := st.waitingNotice
	s.mu.Unlock()
	if notice == "" || rel == nil || rel.EventID != notice {
		return
	}
	var err error
	switch key := rel.Key; {
	case slices.Contains(admitReactions, key):
		err = s.Admit(ctx, st.room, evt.Sender, CitizenIdentity, evt.ID.String())
	case slices.Contains(denyReactions, key):
		err = s.Deny(ctx, st.room, evt.Sender, CitizenIdentity, evt.ID.String())
	default:
		return
	}
	if err != nil {
		zerolog.Ctx(ctx).Debug().Err(err).Msg("A reaction on the waiting notice did not decide")
	}
}
