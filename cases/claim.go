package cases

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/bot"
	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// claimUsage answers a claim that names no case.
const claimUsage = "Aufruf: " + bot.Prefix + " übernehmen <Aktenzeichen>, oder als Antwort auf die Ankündigung des Falls: " +
	bot.Prefix + " übernehmen / usage: " + bot.Prefix + " claim <reference>, or reply to the announcement with " + bot.Prefix + " claim"

// claimCommand lets a caseworker of the case's department take a queued
// case, named by its reference or by replying to its announcement: of two
// claims at once exactly one wins.
func (s *Service) claimCommand(ctx context.Context, req *bot.Request) string {
	sender := req.Sender
	var ref string
	switch {
	case len(req.Args) == 1:
		ref = strings.ToUpper(req.Args[0])
	case len(req.Args) == 0:
		ref = s.announcedCase(ctx, req.Event)
	}
	if ref == "" {
		return claimUsage
	}
	c, err := s.caseByReference(ctx, ref)
	if err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("Failed to look up case")
		return "Der Fall konnte nicht geladen werden. / Could not load the case."
	} else if c == nil {
		return fmt.Sprintf("Es gibt keinen Fall %s. / No such case.", ref)
	}
	d := s.config().Department(protocol.DepartmentID(c.Department))
	member := (*config.StaffConfig)(nil)
	if d != nil {
		member = d.Member(sender)
	}
	if member == nil {
		return fmt.Sprintf("Nur das Team der Abteilung kann %s übernehmen. / Only the department's team can claim it.", ref)
	}
	next, err := NextCaseStatus(c.Status, ActionClaim)
	if err != nil {
		return fmt.Sprintf("%s: %v", ref, err)
	}
	if open, err := s.opts.Store.OpenCasesOf(ctx, sender); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("Failed to count open cases")
		return "Der Fall konnte nicht übernommen werden. / Could not claim the case."
	} else if open >= member.MaxCases {
		return fmt.Sprintf("Sie können keinen weiteren Fall übernehmen (offene Fälle: %d, höchstens %d). / You cannot claim another case (open cases: %d, at most %d).",
			open, member.MaxCases, open, member.MaxCases)
	}
	err = s.opts.Store.TransitionCase(ctx, c.ID, c.Status, next, string(ActionClaim), sender.String())
	if errors.Is(err, store.ErrConflict) {
		return fmt.Sprintf("%s wurde gerade von jemand anderem übernommen. / Someone else just claimed it.", ref)
	} else if err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("Failed to claim case")
		return "Der Fall konnte nicht übernommen werden. / Could not claim the case."
	}
	logTransition(ctx, c, next, string(ActionClaim), sender)
	if err = s.opts.Store.AddCaseAssignee(ctx, c.ID, sender); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("Failed to record assignee")
	}
	c.Status = next
	if err = s.joinCaseworker(ctx, c, sender, d); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Stringer("case_id", c.ID).Msg("Failed to bring the caseworker into the case room")
		return fmt.Sprintf("%s ist jetzt Ihr Fall. Die Einladung in den Fallraum ist aber fehlgeschlagen. "+
			"Bitte melden Sie das Ihrer Administration. / The case is yours, but the invitation to the case room failed; "+
			"please tell your administrators.", ref)
	}
	return fmt.Sprintf("%s ist jetzt Ihr Fall. Die Einladung in den Fallraum ist unterwegs. / The case is yours; an invitation to the case room is on its way.", ref)
}

// joinCaseworker invites the caseworker, updates the case state and tells
// the citizen that a person is there (the team's name only).
func (s *Service) joinCaseworker(ctx context.Context, c *Case, user id.UserID, d *config.DepartmentConfig) error {
	botIntent := s.opts.AS.BotIntent()
	if _, err := botIntent.InviteUser(ctx, c.RoomID, &mautrix.ReqInviteUser{UserID: user}); err != nil && !errors.Is(err, mautrix.MForbidden) {
		return err
	}
	assignees, err := s.opts.Store.CaseAssignees(ctx, c.ID)
	if err != nil {
		return err
	}
	if _, err = botIntent.SendStateEvent(ctx, c.RoomID, protocol.CaseEventType, "", s.caseContent(c, assignees)); err != nil {
		return err
	}
	state, err := botIntent.State(ctx, c.RoomID)
	if err != nil {
		return err
	}
	if err = s.convergeCaseRoomLevels(ctx, c.RoomID, state, caseRoomUsers(botIntent.UserID, assignees), false); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Stringer("room_id", c.RoomID).Msg("Failed to update power levels")
	}
	notice := &event.MessageEventContent{MsgType: event.MsgNotice, Body: fmt.Sprintf(
		"Jemand aus dem Team „%s“ ist jetzt für Sie da. / A member of the %s team is here for you now.", d.Name, d.Name)}
	// The guest chat shows the join in the citizen's language itself.
	tagged := &event.Content{Parsed: notice, Raw: map[string]any{protocol.NoticeKindKey: protocol.NoticeCaseworkerJoined}}
	_, err = s.opts.Sender.Send(ctx, botIntent, c.RoomID, event.EventMessage, tagged,
		appservice.TxnID(botIntent.UserID, c.RoomID, id.EventID(c.ID.String()+"/"+user.String()), "caseworker-joined"))
	return err
}

// announcedCase is the reference of the case whose announcement evt
// replies to, or "".
func (s *Service) announcedCase(ctx context.Context, evt *event.Event) string {
	if evt == nil {
		return ""
	}
	to := evt.Content.AsMessage().RelatesTo.GetReplyTo()
	if to == "" {
		return ""
	}
	botIntent := s.opts.AS.BotIntent()
	original, err := botIntent.GetEvent(ctx, evt.RoomID, to)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Stringer("reply_to", to).Msg("Failed to read the message a claim replies to")
		return ""
	}
	if original.Sender != botIntent.UserID {
		return ""
	}
	ref, _ := original.Content.Raw[protocol.AnnouncedCaseKey].(string)
	return ref
}
