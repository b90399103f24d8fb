package cases

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// purgeCounts is what a purge did in the room, for the log.
type purgeCounts struct {
	redacted, kicked int
}

// purgeCase ends an ended case's retention: the room is emptied and left,
// then the database forgets the case's content. Every step is safe to run
// again, and the store's purged status is written last, so a purge cut
// short (crash, homeserver down) is finished by the next check.
func (s *Service) purgeCase(ctx context.Context, caseID protocol.CaseID) error {
	c, err := s.Case(ctx, caseID)
	if err != nil || c == nil || !caseEnded(c.Status) {
		return err
	}
	log := zerolog.Ctx(ctx).With().Stringer("case_id", c.ID).Str("reference", c.Reference).Logger()
	ctx = log.WithContext(ctx)
	var counts purgeCounts
	if c.RoomID != "" {
		if err = s.purgeRoom(ctx, c, &counts); err != nil {
			return err
		}
	}
	res, err := s.opts.Store.PurgeCase(ctx, c.ID, c.Status, s.opts.AS.BotIntent().UserID.String())
	if errors.Is(err, store.ErrConflict) {
		// A reopen that raced the purge leaves an open case with an
		// emptied room; staff see the purged room state and name.
		log.Warn().Msg("Case changed while it was purged")
		return nil
	} else if err != nil {
		return err
	}
	s.opts.Rooms.Forget(c.RoomID)
	log.Info().Int("redacted", counts.redacted).Int("kicked", counts.kicked).
		Int64("timeline_rows", res.Events).Int64("sessions", res.Sessions).Msg("Purged case")
	return nil
}

// purgeRoom empties the case room, in an order that lets every member see
// the redactions before they are removed: lock the room so only the bot
// can post, redact, mark the room (state, name), unlink it from the
// department space, remove the members, leave.
func (s *Service) purgeRoom(ctx context.Context, c *Case, counts *purgeCounts) error {
	botIntent := s.opts.AS.BotIntent()
	// The plain client: the intent would join the room again first.
	state, err := s.opts.AS.BotClient().State(ctx, c.RoomID)
	if err != nil {
		return fmt.Errorf("failed to read the case room's state: %w", err)
	}
	if appservice.Membership(state, botIntent.UserID) != event.MembershipJoin {
		// Leaving is the last step: an earlier run got that far.
		return nil
	}
	if err = s.convergeCaseRoomLevels(ctx, c.RoomID, state, caseRoomUsers(botIntent.UserID, nil), true); err != nil {
		return fmt.Errorf("failed to lock the case room: %w", err)
	}
	if counts.redacted, err = s.redactHistory(ctx, c.RoomID); err != nil {
		return err
	}
	if appservice.CurrentContent(state, protocol.CaseEventType, "")["status"] != protocol.CasePurged {
		purged := *c
		purged.Status = protocol.CasePurged
		if _, err = botIntent.SendStateEvent(ctx, c.RoomID, protocol.CaseEventType, "", s.caseContent(&purged, nil)); err != nil {
			return fmt.Errorf("failed to mark the case room purged: %w", err)
		}
	}
	if err = s.unlinkPurgedRoom(ctx, c); err != nil {
		return err
	}
	name := c.Reference + " (gelöscht)"
	if appservice.CurrentContent(state, event.StateRoomName, "")["name"] != name {
		if _, err = botIntent.SetRoomName(ctx, c.RoomID, name); err != nil {
			return fmt.Errorf("failed to rename the case room: %w", err)
		}
	}
	// The ghost's profile still carries the name the citizen chose.
	if err = s.opts.AS.Intent(c.Ghost).SetDisplayName(ctx, GhostDisplayName("")); err != nil {
		return fmt.Errorf("failed to reset the ghost's display name: %w", err)
	}
	if counts.kicked, err = s.removeMembers(ctx, c.RoomID, c.Ghost); err != nil {
		return err
	}
	if _, err = botIntent.LeaveRoom(ctx, c.RoomID); err != nil {
		return fmt.Errorf("failed to leave the case room: %w", err)
	}
	return nil
}

// redactHistory pages backwards through the room as the bot and redacts
// every message-like event that is not redacted yet. The bot's own
// redactions are left: they carry only the fixed reason.
func (s *Service) redactHistory(ctx context.Context, room id.RoomID) (int, error) {
	botIntent := s.opts.AS.BotIntent()
	redacted := 0
	from := ""
	for {
		resp, err := botIntent.Messages(ctx, room, from, "", mautrix.DirectionBackward, nil, 100)
		if err != nil {
			return redacted, fmt.Errorf("failed to read the case room's history: %w", err)
		}
		for _, evt := range resp.Chunk {
			if evt.StateKey != nil || evt.Unsigned.RedactedBecause != nil ||
				(evt.Type == event.EventRedaction && evt.Sender == botIntent.UserID) {
				continue
			}
			_, err = botIntent.RedactEvent(ctx, room, evt.ID, mautrix.ReqRedact{Reason: purgeReason,
				TxnID: appservice.TxnID(botIntent.UserID, room, evt.ID, "purge")})
			if err != nil {
				return redacted, fmt.Errorf("failed to redact %s: %w", evt.ID, err)
			}
			redacted++
		}
		if resp.End == "" || resp.End == from || len(resp.Chunk) == 0 {
			return redacted, nil
		}
		from = resp.End
	}
}

// unlinkPurgedRoom removes the room from its department's space.
func (s *Service) unlinkPurgedRoom(ctx context.Context, c *Case) error {
	space, err := s.opts.Departments.Space(ctx, protocol.DepartmentID(c.Department))
	if err != nil || space == "" {
		return err
	}
	var child event.SpaceChildEventContent
	err = s.opts.AS.BotIntent().StateEvent(ctx, space, event.StateSpaceChild, c.RoomID.String(), &child)
	if errors.Is(err, mautrix.MNotFound) || (err == nil && len(child.Via) == 0) {
		return nil
	} else if err != nil {
		return fmt.Errorf("failed to read the space's link to the case room: %w", err)
	}
	return s.linkCaseRoom(ctx, space, c.RoomID, false)
}

// removeMembers kicks everyone but the bot and withdraws open
// invitations. The citizen's ghost goes first: a member who left sees the
// room as it was when they left, so staff see the ghost removed.
func (s *Service) removeMembers(ctx context.Context, room id.RoomID, ghost id.UserID) (int, error) {
	botIntent := s.opts.AS.BotIntent()
	state, err := botIntent.State(ctx, room)
	if err != nil {
		return 0, fmt.Errorf("failed to read the case room's members: %w", err)
	}
	var members []id.UserID
	for key := range state[event.StateMember] {
		switch user := id.UserID(key); appservice.Membership(state, user) {
		case event.MembershipJoin, event.MembershipInvite, event.MembershipKnock:
			if user != botIntent.UserID {
				members = append(members, user)
			}
		}
	}
	slices.SortFunc(members, func(a, b id.UserID) int {
		if (a == ghost) != (b == ghost) {
			if a == ghost {
				return -1
			}
			return 1
		}
		return strings.Compare(string(a), string(b))
	})
	kicked := 0
	for _, user := range members {
		if _, err = botIntent.KickUser(ctx, room, &mautrix.ReqKickUser{UserID: user, Reason: purgeReason}); err != nil {
			return kicked, fmt.Errorf("failed to remove %s from the case room: %w", user, err)
		}
		kicked++
	}
	return kicked, nil
}
