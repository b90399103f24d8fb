package bridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// Retention (issue 4): an open case whose citizen stays silent for
// retention.abandon_after becomes abandoned; a resolved case nobody
// reopens is closed retention.close_resolved_after after it was resolved;
// an ended case is purged retention.keep_closed after it ended. All are
// checked every retention.check_interval of the running config.

// retentionBatch bounds how many cases one check abandons and purges, so a
// backlog (after downtime) is worked off in steps that each finish soon.
const retentionBatch = 100

const (
	purgeReason = "Aufbewahrungsfrist abgelaufen / retention period ended"
)

// retentionEnd is how retention ends a case: the action, the notice the
// room gets (sent once per case, under purpose), and the log message.
type retentionEnd struct {
	action          CaseAction
	notice, purpose string
	logMsg          string
}

var (
	abandonIdle = retentionEnd{ActionAbandon,
		"Dieser Fall wurde wegen Inaktivität beendet. / This case was closed for inactivity.",
		"abandon", "Abandoned idle case"}
	closeResolved = retentionEnd{ActionClose,
		"Dieser erledigte Fall wurde automatisch geschlossen. / This resolved case was closed automatically.",
		"resolved-close", "Closed resolved case"}
)

// caseEnded reports whether a case rests until it is purged: exactly the
// statuses a purge starts from.
func caseEnded(status string) bool {
	return slices.Contains(caseTransitions[ActionPurge].from, protocol.CaseStatus(status))
}

// retainEndedCase records when an ended case will be purged, so the room's
// de.rathaus.case shows it; any other status has no date (the store
// cleared it with the status change).
func (b *Bridge) retainEndedCase(ctx context.Context, c *store.Case) {
	c.RetainUntil = time.Time{}
	if !caseEnded(c.Status) {
		return
	}
	until, err := b.store.RetainClosedCase(ctx, c.ID, b.config().Retention.KeepClosed)
	if err != nil {
		// The purge goes by closed_at; only the date shown in the room is missing.
		zerolog.Ctx(ctx).Warn().Err(err).Str("case_id", c.ID).Msg("Failed to store the case's retention date")
		return
	}
	c.RetainUntil = until
}

// retentionLoop abandons idle cases and purges expired ones until ctx ends.
func (b *Bridge) retentionLoop(ctx context.Context) {
	defer b.background.Done()
	ctx = b.log.With().Str("component", "retention").Logger().WithContext(ctx)
	for {
		b.checkRetention(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(b.config().Retention.CheckInterval):
		}
	}
}

// checkRetention runs one round: abandon and close first, so a case that
// ends now starts its retention period now.
func (b *Bridge) checkRetention(ctx context.Context) {
	r := b.config().Retention
	now := time.Now()
	b.retentionStep(ctx, "idle cases", b.store.IdleCases, now.Add(-r.AbandonAfter), func(caseID string) error {
		return b.endCase(ctx, caseID, abandonIdle)
	})
	b.retentionStep(ctx, "resolved cases", b.store.ResolvedCases, now.Add(-r.CloseResolvedAfter), func(caseID string) error {
		return b.endCase(ctx, caseID, closeResolved)
	})
	b.retentionStep(ctx, "cases to purge", b.store.CasesDueForPurge, now.Add(-r.KeepClosed), func(caseID string) error {
		return b.purgeCase(ctx, caseID)
	})
}

// retentionStep finds up to retentionBatch cases with find and works on
// each; a case that fails is tried again at the next check.
func (b *Bridge) retentionStep(ctx context.Context, what string, find func(context.Context, time.Time, int) ([]string, error),
	cutoff time.Time, work func(caseID string) error) {
	log := zerolog.Ctx(ctx).With().Str("step", what).Logger()
	ids, err := find(ctx, cutoff, retentionBatch)
	if err != nil && ctx.Err() == nil {
		log.Warn().Err(err).Msg("Failed to look for cases")
	}
	for _, caseID := range ids {
		if err = work(caseID); err != nil && ctx.Err() == nil {
			log.Warn().Err(err).Str("case_id", caseID).Msg("Failed to handle case; trying again at the next check")
		}
	}
}

// endCase ends a case for retention (an idle case is abandoned, a
// resolved one closed) and tells the room. If the case changed since it
// was found (the citizen wrote, staff reopened or closed it), nothing
// happens.
func (b *Bridge) endCase(ctx context.Context, caseID string, how retentionEnd) error {
	c, err := b.store.GetCase(ctx, caseID)
	if err != nil || c == nil {
		return err
	}
	log := zerolog.Ctx(ctx).With().Str("case_id", c.ID).Logger()
	ctx = log.WithContext(ctx)
	bot := b.as.BotIntent()
	next, err := b.applyCaseAction(ctx, c, how.action, bot.UserID)
	if errors.Is(err, errCaseChanged) || errors.Is(err, ErrIllegalTransition) {
		log.Debug().Err(err).Msg("Case changed before retention ended it")
		return nil
	} else if next == "" {
		return err
	} else if err != nil {
		// The case has ended; the room state is set again by the purge.
		log.Warn().Err(err).Msg("Failed to show the new status in the case room")
	}
	log.Info().Str("reference", c.Reference).Msg(how.logMsg)
	if c.RoomID == "" {
		return nil
	}
	content := &event.MessageEventContent{MsgType: event.MsgNotice, Body: how.notice}
	_, err = b.sender.Send(ctx, bot, c.RoomID, event.EventMessage, content, TxnID(bot.UserID, c.RoomID, id.EventID(c.ID), how.purpose))
	return err
}

// purgeCounts is what a purge did in the room, for the log.
type purgeCounts struct {
	redacted, kicked int
}

// purgeCase ends an ended case's retention: the room is emptied and left,
// then the database forgets the case's content. Every step is safe to run
// again, and the store's purged status is written last, so a purge cut
// short (crash, homeserver down) is finished by the next check.
func (b *Bridge) purgeCase(ctx context.Context, caseID string) error {
	c, err := b.store.GetCase(ctx, caseID)
	if err != nil || c == nil || !caseEnded(c.Status) {
		return err
	}
	log := zerolog.Ctx(ctx).With().Str("case_id", c.ID).Str("reference", c.Reference).Logger()
	ctx = log.WithContext(ctx)
	var counts purgeCounts
	if c.RoomID != "" {
		if err = b.purgeRoom(ctx, c, &counts); err != nil {
			return err
		}
	}
	res, err := b.store.PurgeCase(ctx, c.ID, c.Status, b.as.BotIntent().UserID.String())
	if errors.Is(err, store.ErrConflict) {
		// A reopen that raced the purge leaves an open case with an
		// emptied room; staff see the purged room state and name.
		log.Warn().Msg("Case changed while it was purged")
		return nil
	} else if err != nil {
		return err
	}
	log.Info().Int("redacted", counts.redacted).Int("kicked", counts.kicked).
		Int64("timeline_rows", res.Events).Int64("sessions", res.Sessions).Msg("Purged case")
	return nil
}

// purgeRoom empties the case room, in an order that lets every member see
// the redactions before they are removed: lock the room so only the bot
// can post, redact, mark the room (state, name), unlink it from the
// department space, remove the members, leave.
func (b *Bridge) purgeRoom(ctx context.Context, c *store.Case, counts *purgeCounts) error {
	bot := b.as.BotIntent()
	// The plain client: the intent would join the room again first.
	state, err := b.as.BotClient().State(ctx, c.RoomID)
	if err != nil {
		return fmt.Errorf("failed to read the case room's state: %w", err)
	}
	if membership(state, bot.UserID) != event.MembershipJoin {
		// Leaving is the last step: an earlier run got that far.
		return nil
	}
	var report ReconcileReport
	b.convergePowerLevels(ctx, c.RoomID, state, map[id.UserID]int{bot.UserID: config.BotPowerLevel}, true, &report)
	if len(report.Failures) > 0 {
		return fmt.Errorf("failed to lock the case room: %s", report.Failures[0])
	}
	if counts.redacted, err = b.redactHistory(ctx, c.RoomID); err != nil {
		return err
	}
	if currentContent(state, protocol.CaseEventType, "")["status"] != string(protocol.CasePurged) {
		purged := *c
		purged.Status = string(protocol.CasePurged)
		if _, err = bot.SendStateEvent(ctx, c.RoomID, protocol.CaseEventType, "", b.caseContent(&purged, nil)); err != nil {
			return fmt.Errorf("failed to mark the case room purged: %w", err)
		}
	}
	if err = b.unlinkPurgedRoom(ctx, c); err != nil {
		return err
	}
	name := c.Reference + " (gelöscht)"
	if currentContent(state, event.StateRoomName, "")["name"] != name {
		if _, err = bot.SetRoomName(ctx, c.RoomID, name); err != nil {
			return fmt.Errorf("failed to rename the case room: %w", err)
		}
	}
	// The ghost's profile still carries the name the citizen chose.
	if err = b.as.Intent(c.Ghost).SetDisplayName(ctx, GhostDisplayName("")); err != nil {
		return fmt.Errorf("failed to reset the ghost's display name: %w", err)
	}
	if counts.kicked, err = b.removeMembers(ctx, c.RoomID, c.Ghost); err != nil {
		return err
	}
	if _, err = bot.LeaveRoom(ctx, c.RoomID); err != nil {
		return fmt.Errorf("failed to leave the case room: %w", err)
	}
	return nil
}

// redactHistory pages backwards through the room as the bot and redacts
// every message-like event that is not redacted yet. The bot's own
// redactions are left: they carry only the fixed reason.
func (b *Bridge) redactHistory(ctx context.Context, room id.RoomID) (int, error) {
	bot := b.as.BotIntent()
	redacted := 0
	from := ""
	for {
		resp, err := bot.Messages(ctx, room, from, "", mautrix.DirectionBackward, nil, 100)
		if err != nil {
			return redacted, fmt.Errorf("failed to read the case room's history: %w", err)
		}
		for _, evt := range resp.Chunk {
			if evt.StateKey != nil || evt.Unsigned.RedactedBecause != nil ||
				(evt.Type == event.EventRedaction && evt.Sender == bot.UserID) {
				continue
			}
			_, err = bot.RedactEvent(ctx, room, evt.ID, mautrix.ReqRedact{Reason: purgeReason,
				TxnID: TxnID(bot.UserID, room, evt.ID, "purge")})
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
func (b *Bridge) unlinkPurgedRoom(ctx context.Context, c *store.Case) error {
	space, err := b.store.GetManagedRoom(ctx, store.RoomDepartmentSpace, c.Department)
	if err != nil || space == nil {
		return err
	}
	var child event.SpaceChildEventContent
	err = b.as.BotIntent().StateEvent(ctx, space.RoomID, event.StateSpaceChild, c.RoomID.String(), &child)
	if errors.Is(err, mautrix.MNotFound) || (err == nil && len(child.Via) == 0) {
		return nil
	} else if err != nil {
		return fmt.Errorf("failed to read the space's link to the case room: %w", err)
	}
	return b.linkCaseRoom(ctx, space.RoomID, c.RoomID, false)
}

// removeMembers kicks everyone but the bot and withdraws open
// invitations. The citizen's ghost goes first: a member who left sees the
// room as it was when they left, so staff see the ghost removed.
func (b *Bridge) removeMembers(ctx context.Context, room id.RoomID, ghost id.UserID) (int, error) {
	bot := b.as.BotIntent()
	state, err := bot.State(ctx, room)
	if err != nil {
		return 0, fmt.Errorf("failed to read the case room's members: %w", err)
	}
	var members []id.UserID
	for key := range state[event.StateMember] {
		switch user := id.UserID(key); membership(state, user) {
		case event.MembershipJoin, event.MembershipInvite, event.MembershipKnock:
			if user != bot.UserID {
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
		if _, err = bot.KickUser(ctx, room, &mautrix.ReqKickUser{UserID: user, Reason: purgeReason}); err != nil {
			return kicked, fmt.Errorf("failed to remove %s from the case room: %w", user, err)
		}
		kicked++
	}
	return kicked, nil
}
