package cases

import (
	"context"
	"errors"
	"fmt"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/bot"
	"github.com/rathaus-de/rathaus/protocol"
)

// Case actions from outside the case commands: the ticket's commands and
// the ticket widget (package tickets) act on the case of a room through
// these, with the same checks and the same effects as !rathaus resolve.

// StaffCase returns the case of a case room if user is on the team of its
// department: ErrNotCaseRoom for another room, ErrNotCaseStaff for anyone
// else. Membership of the room and power level are the caller's to check
// (a command's sender is in the room; the widget's sign-in checks both).
func (s *Service) StaffCase(ctx context.Context, room id.RoomID, user id.UserID) (*Case, error) {
	info := s.opts.Rooms.Lookup(room)
	if info.Kind != bot.RoomCase {
		return nil, ErrNotCaseRoom
	}
	c, err := s.Case(ctx, protocol.CaseID(info.Key))
	if err != nil {
		return nil, fmt.Errorf("failed to look up case: %w", err)
	} else if c == nil || c.RoomID != room {
		return nil, ErrNotCaseRoom
	}
	d := s.config().Department(c.Department)
	if d == nil || d.Member(user) == nil {
		return nil, ErrNotCaseStaff
	}
	return c, nil
}

// ApplyInRoom applies a case action to the case of a room for a member of
// its department's team (see StaffCase), updates the room's case state and
// tells the room (and the citizen's page) as !rathaus resolve does. key
// makes the notice's transaction id: the command's event id, or a fresh id
// per widget request. It returns the case with its new status; an illegal
// step is an error wrapping ErrIllegalTransition whose text staff can read.
func (s *Service) ApplyInRoom(ctx context.Context, room id.RoomID, action CaseAction, actor id.UserID, key string) (*Case, error) {
	c, err := s.StaffCase(ctx, room, actor)
	if err != nil {
		return nil, err
	}
	if _, err = s.applyCaseAction(ctx, c, action, actor); err != nil {
		return c, err
	}
	s.sendCaseNotice(ctx, c, action, id.EventID(key))
	return c, nil
}

// sendCaseNotice tells the room about an action that has a notice (see
// caseNotices); the others show as the case's status change only.
func (s *Service) sendCaseNotice(ctx context.Context, c *Case, action CaseAction, key id.EventID) {
	n, ok := caseNotices[action]
	if !ok {
		return
	}
	botIntent := s.opts.AS.BotIntent()
	notice := taggedNotice(n.kind, n.body, "")
	if _, err := s.opts.Sender.Send(ctx, botIntent, c.RoomID, event.EventMessage, notice, appservice.TxnID(botIntent.UserID, c.RoomID, key, string(action))); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("Failed to tell the room about the case change")
	}
}

// StaffText is the text of an error of this package as staff read it
// ("deutsch / English"), or "" if err is none of ours (log it and say
// something general).
func StaffText(err error) string {
	var se *staffError
	var te *transitionError
	switch {
	case errors.As(err, &se):
		return se.Error()
	case errors.As(err, &te):
		return te.Error()
	}
	return ""
}

// StatusName is a case status in the words staff read, German and English.
func StatusName(s protocol.CaseStatus) (de, en string) {
	w, ok := caseStatusNames[s]
	if !ok {
		return string(s), string(s)
	}
	return w.de, w.en
}
