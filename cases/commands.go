package cases

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"

	"github.com/rathaus-de/rathaus/bot"
	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/protocol"
)

// Commands are the case commands: claim in a staff room (or anywhere),
// the others in a case room.
func (s *Service) Commands() []bot.Command {
	inRoom := func(action CaseAction) func(context.Context, *bot.Request) string {
		return func(ctx context.Context, req *bot.Request) string { return s.caseRoomCommand(ctx, req, action) }
	}
	return []bot.Command{
		{Names: []string{"claim", "übernehmen"}, Permission: bot.Staff, Args: "<Aktenzeichen>",
			Help: "übernimmt einen wartenden Fall, auch als Antwort auf seine Ankündigung / claims a queued case, also as a reply to its announcement",
			Run:  s.claimCommand},
		{Names: []string{"resolve", "erledigt"}, Permission: bot.Staff,
			Help: "im Fallraum: markiert den Fall als erledigt / in a case room: marks the case resolved", Run: inRoom(ActionResolve)},
		{Names: []string{"close", "schließen"}, Permission: bot.Staff,
			Help: "im Fallraum: schließt den Fall / in a case room: closes the case", Run: inRoom(ActionClose)},
		{Names: []string{"reopen", "wiedereröffnen"}, Permission: bot.Staff,
			Help: "im Fallraum: öffnet den Fall wieder / in a case room: reopens the case", Run: inRoom(ActionReopen)},
		{Names: []string{"transfer", "abgeben"}, Permission: bot.Staff, Args: "<Abteilung>",
			Help: "im Fallraum: gibt den Fall an eine andere Abteilung ab / in a case room: hands the case to another department",
			Run:  s.transferCommand},
	}
}

// caseNotices is what the citizen (and everyone in the room) is told after
// an action.
// Matrix clients show the body; the guest chat shows the citizen its own
// text for the kind, in one language.
var caseNotices = map[CaseAction]struct{ kind, body string }{
	ActionResolve: {protocol.NoticeCaseResolved, "Dieser Fall ist erledigt. Vielen Dank! / This case is resolved. Thank you!"},
	ActionClose:   {protocol.NoticeCaseClosed, "Dieser Fall ist jetzt geschlossen. Vielen Dank! / This case is now closed. Thank you!"},
	ActionReopen:  {protocol.NoticeCaseReopened, "Dieser Fall ist wieder geöffnet. / This case has been reopened."},
}

// taggedNotice is a notice of the bot that carries its kind (and the
// team it names) for the guest chat.
func taggedNotice(kind, body, team string) *event.Content {
	raw := map[string]any{protocol.NoticeKindKey: kind}
	if team != "" {
		raw[protocol.NoticeTeamKey] = team
	}
	return &event.Content{Parsed: &event.MessageEventContent{MsgType: event.MsgNotice, Body: body}, Raw: raw}
}

// caseRoomCommand runs resolve, close and reopen inside a case room, for staff of
// the case's department.
func (s *Service) caseRoomCommand(ctx context.Context, req *bot.Request, action CaseAction) string {
	evt := req.Event
	c, _, refusal := s.staffCaseInRoom(ctx, req)
	if refusal != "" {
		return refusal
	}
	next, err := s.applyCaseAction(ctx, c, action, evt.Sender)
	if err != nil {
		return fmt.Sprintf("%s: %v", c.Reference, err)
	}
	s.sendCaseNotice(ctx, c, action, evt.ID)
	return fmt.Sprintf("%s: %s", c.Reference, caseStatusNames[next])
}

// staffCaseInRoom returns the case of the command's room and its
// department if the sender is on that department's team; otherwise the
// answer to give.
func (s *Service) staffCaseInRoom(ctx context.Context, req *bot.Request) (*Case, *config.DepartmentConfig, string) {
	if req.Room.Kind != bot.RoomCase {
		return nil, nil, "Dieser Befehl gilt nur in einem Fallraum. / This command only works in a case room."
	}
	c, err := s.Case(ctx, protocol.CaseID(req.Room.Key))
	if err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("Failed to look up case")
		return nil, nil, "Der Fall konnte nicht geladen werden. / Could not load the case."
	} else if c == nil {
		return nil, nil, "Dieser Befehl gilt nur in einem Fallraum. / This command only works in a case room."
	}
	d := s.config().Department(protocol.DepartmentID(c.Department))
	if d == nil || d.Member(req.Sender) == nil {
		return nil, nil, "Nur das Team der Abteilung kann das. / Only the department's team can do that."
	}
	return c, d, ""
}
