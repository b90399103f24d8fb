package cases

import (
	"context"
	"errors"
	"fmt"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// logTransition records who moved a case where, without any content: ids,
// the reference, the statuses and the action.
func logTransition(ctx context.Context, c *Case, next protocol.CaseStatus, action string, actor id.UserID) {
	zerolog.Ctx(ctx).Info().Stringer("case_id", c.ID).Str("reference", c.Reference).
		Str("from", string(c.Status)).Str("to", string(next)).Str("action", action).Stringer("actor", actor).
		Msg("Case status changed")
}

// applyCaseAction moves a case to its next status: a database row (which
// refuses if someone changed the case meanwhile) and the room's
// de.rathaus.case state.
func (s *Service) applyCaseAction(ctx context.Context, c *Case, action CaseAction, actor id.UserID) (protocol.CaseStatus, error) {
	next, err := NextCaseStatus(c.Status, action)
	if err != nil {
		return "", err
	}
	err = s.opts.Store.TransitionCase(ctx, c.ID, c.Status, next, string(action), actor.String())
	if errors.Is(err, store.ErrConflict) {
		return "", errCaseChanged
	} else if err != nil {
		return "", err
	}
	logTransition(ctx, c, next, string(action), actor)
	c.Status = next
	s.retainEndedCase(ctx, c)
	assignees, err := s.opts.Store.CaseAssignees(ctx, c.ID)
	if err != nil {
		return next, err
	}
	if _, err = s.opts.AS.BotIntent().SendStateEvent(ctx, c.RoomID, protocol.CaseEventType, "", s.caseContent(c, assignees)); err != nil {
		return next, fmt.Errorf("failed to update the case state: %w", err)
	}
	return next, nil
}
