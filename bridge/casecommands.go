package bridge

import (
	"context"
	"errors"
	"fmt"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// caseNotices is what the citizen (and everyone in the room) is told after
// an action.
var caseNotices = map[CaseAction]string{
	ActionResolve: "Dieser Fall ist erledigt. Vielen Dank! / This case is resolved. Thank you!",
	ActionClose:   "Dieser Fall ist jetzt geschlossen. Vielen Dank! / This case is now closed. Thank you!",
	ActionReopen:  "Dieser Fall ist wieder geöffnet. / This case has been reopened.",
}

// caseRoomCommand runs resolve, close and reopen inside a case room, for staff of
// the case's department.
func (b *Bridge) caseRoomCommand(ctx context.Context, evt *event.Event, action CaseAction) string {
	c, _, refusal := b.staffCaseInRoom(ctx, evt)
	if refusal != "" {
		return refusal
	}
	next, err := b.applyCaseAction(ctx, c, action, evt.Sender)
	if err != nil {
		return fmt.Sprintf("%s: %v", c.Reference, err)
	}
	bot := b.as.BotIntent()
	notice := &event.MessageEventContent{MsgType: event.MsgNotice, Body: caseNotices[action]}
	if _, err = b.sender.Send(ctx, bot, c.RoomID, event.EventMessage, notice, TxnID(bot.UserID, c.RoomID, evt.ID, string(action))); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("Failed to tell the room about the case change")
	}
	return fmt.Sprintf("%s: %s", c.Reference, caseStatusNames[next])
}

// staffCaseInRoom returns the case of the command's room and its
// department if the sender is on that department's team; otherwise the
// answer to give.
func (b *Bridge) staffCaseInRoom(ctx context.Context, evt *event.Event) (*store.Case, *config.DepartmentConfig, string) {
	c, err := b.store.GetCaseByRoom(ctx, evt.RoomID)
	if err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("Failed to look up case")
		return nil, nil, "Der Fall konnte nicht geladen werden. / Could not load the case."
	} else if c == nil {
		return nil, nil, "Dieser Befehl gilt nur in einem Fallraum. / This command only works in a case room."
	}
	d := b.config().Department(config.DepartmentID(c.Department))
	if d == nil || d.Member(evt.Sender) == nil {
		return nil, nil, "Nur das Team der Abteilung kann das. / Only the department's team can do that."
	}
	return c, d, ""
}

// errCaseChanged is shown when a case changed between reading and writing.
var errCaseChanged = errors.New("der Fall wurde gerade geändert, bitte noch einmal / the case just changed, please try again")

// applyCaseAction moves a case to its next status: a database row (which
// refuses if someone changed the case meanwhile) and the room's
// de.rathaus.case state.
func (b *Bridge) applyCaseAction(ctx context.Context, c *store.Case, action CaseAction, actor id.UserID) (protocol.CaseStatus, error) {
	next, err := NextCaseStatus(protocol.CaseStatus(c.Status), action)
	if err != nil {
		return "", err
	}
	err = b.store.TransitionCase(ctx, c.ID, c.Status, string(next), string(action), actor.String())
	if errors.Is(err, store.ErrConflict) {
		return "", errCaseChanged
	} else if err != nil {
		return "", err
	}
	c.Status = string(next)
	b.retainEndedCase(ctx, c)
	assignees, err := b.store.CaseAssignees(ctx, c.ID)
	if err != nil {
		return next, err
	}
	if _, err = b.as.BotIntent().SendStateEvent(ctx, c.RoomID, protocol.CaseEventType, "", b.caseContent(c, assignees)); err != nil {
		return next, fmt.Errorf("failed to update the case state: %w", err)
	}
	return next, nil
}
