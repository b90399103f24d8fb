package cases

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/protocol"
)

// Retention: an open case whose citizen stays silent for
// retention.abandon_after becomes abandoned; a resolved case nobody
// reopens is closed retention.close_resolved_after after it was resolved;
// an ended case is purged retention.keep_closed after it ended (purge.go).
// All are checked every retention.check_interval of the running config.

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
	kind            string // of the notice, for the guest chat
	notice, purpose string
	logMsg          string
}

var (
	abandonIdle = retentionEnd{ActionAbandon, protocol.NoticeCaseAbandoned,
		"Dieser Fall wurde wegen Inaktivität beendet. / This case was closed for inactivity.",
		"abandon", "Abandoned idle case"}
	closeResolved = retentionEnd{ActionClose, protocol.NoticeResolvedCaseClosed,
		"Dieser erledigte Fall wurde automatisch geschlossen. / This resolved case was closed automatically.",
		"resolved-close", "Closed resolved case"}
)

// caseEnded reports whether a case rests until it is purged: exactly the
// statuses a purge starts from.
func caseEnded(status protocol.CaseStatus) bool {
	return slices.Contains(caseTransitions[ActionPurge].from, status)
}

// retainEndedCase records when an ended case will be purged, so the room's
// de.rathaus.case shows it; any other status has no date (the store
// cleared it with the status change).
func (s *Service) retainEndedCase(ctx context.Context, c *Case) {
	c.RetainUntil = time.Time{}
	if !caseEnded(c.Status) {
		return
	}
	until, err := s.opts.Store.RetainClosedCase(ctx, c.ID, s.config().Retention.KeepClosed)
	if err != nil {
		// The purge goes by closed_at; only the date shown in the room is missing.
		zerolog.Ctx(ctx).Warn().Err(err).Stringer("case_id", c.ID).Msg("Failed to store the case's retention date")
		return
	}
	c.RetainUntil = until
}

// CheckRetention runs one round of the retention rules with the running
// config: abandon and close first, so a case that ends now starts its
// retention period now. The caller runs it every
// retention.check_interval; a case that fails is tried again next round.
func (s *Service) CheckRetention(ctx context.Context) {
	r := s.config().Retention
	now := time.Now()
	s.retentionStep(ctx, "idle cases", s.opts.Store.IdleCases, now.Add(-r.AbandonAfter), func(caseID protocol.CaseID) error {
		return s.endCase(ctx, caseID, abandonIdle)
	})
	s.retentionStep(ctx, "resolved cases", s.opts.Store.ResolvedCases, now.Add(-r.CloseResolvedAfter), func(caseID protocol.CaseID) error {
		return s.endCase(ctx, caseID, closeResolved)
	})
	s.retentionStep(ctx, "cases to purge", s.opts.Store.CasesDueForPurge, now.Add(-r.KeepClosed), func(caseID protocol.CaseID) error {
		return s.purgeCase(ctx, caseID)
	})
}

// retentionStep finds up to retentionBatch cases with find and works on
// each; a case that fails is tried again at the next check.
func (s *Service) retentionStep(ctx context.Context, what string, find func(context.Context, time.Time, int) ([]protocol.CaseID, error),
	cutoff time.Time, work func(caseID protocol.CaseID) error) {
	log := zerolog.Ctx(ctx).With().Str("step", what).Logger()
	ids, err := find(ctx, cutoff, retentionBatch)
	if err != nil && ctx.Err() == nil {
		log.Warn().Err(err).Msg("Failed to look for cases")
	}
	for _, caseID := range ids {
		if err = work(caseID); err != nil && ctx.Err() == nil {
			log.Warn().Err(err).Stringer("case_id", caseID).Msg("Failed to handle case; trying again at the next check")
		}
	}
}

// endCase ends a case for retention (an idle case is abandoned, a
// resolved one closed) and tells the room. If the case changed since it
// was found (the citizen wrote, staff reopened or closed it), nothing
// happens.
func (s *Service) endCase(ctx context.Context, caseID protocol.CaseID, how retentionEnd) error {
	c, err := s.Case(ctx, caseID)
	if err != nil || c == nil {
		return err
	}
	log := zerolog.Ctx(ctx).With().Stringer("case_id", c.ID).Logger()
	ctx = log.WithContext(ctx)
	botIntent := s.opts.AS.BotIntent()
	next, err := s.applyCaseAction(ctx, c, how.action, botIntent.UserID)
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
	content := taggedNotice(how.kind, how.notice, "")
	_, err = s.opts.Sender.Send(ctx, botIntent, c.RoomID, event.EventMessage, content, appservice.TxnID(botIntent.UserID, c.RoomID, id.EventID(c.ID), how.purpose))
	return err
}
