package cases

import (
	"context"
	"errors"
	"fmt"

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

// transferCommand moves a case from its department to another one inside
// the authority. The case waits there again; the old team leaves the room.
func (s *Service) transferCommand(ctx context.Context, req *bot.Request) string {
	evt, args := req.Event, req.Args
	if len(args) != 1 {
		return "Aufruf: " + bot.Prefix + " abgeben <Abteilung> / usage: " + bot.Prefix + " transfer <department>"
	}
	c, from, refusal := s.staffCaseInRoom(ctx, req)
	if refusal != "" {
		return refusal
	}
	to := s.config().Department(protocol.DepartmentID(args[0]))
	if to == nil {
		return fmt.Sprintf("Es gibt keine Abteilung „%s“. „%s abteilungen“ zeigt alle Abteilungen. / No such department; %s departments shows them all.",
			bot.Truncate(args[0], 32), bot.Prefix, bot.Prefix)
	} else if to.ID == from.ID {
		return "Der Fall ist schon in dieser Abteilung. / The case already belongs to that department."
	}
	next, err := NextCaseStatus(c.Status, ActionTransfer)
	if err != nil {
		return fmt.Sprintf("%s: %v", c.Reference, err)
	}
	oldTeam, err := s.opts.Store.CaseAssignees(ctx, c.ID)
	if err != nil {
		return "Der Fall konnte nicht abgegeben werden. / Could not transfer the case."
	}
	err = s.opts.Store.TransferCase(ctx, c.ID, c.Status, next, to.ID, evt.Sender.String())
	if errors.Is(err, store.ErrConflict) {
		return fmt.Sprintf("%s: %v", c.Reference, errCaseChanged)
	} else if err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("Failed to transfer case")
		return "Der Fall konnte nicht abgegeben werden. / Could not transfer the case."
	}
	logTransition(ctx, c, next, string(ActionTransfer), evt.Sender)
	zerolog.Ctx(ctx).Info().Stringer("case_id", c.ID).Stringer("from_department", c.Department).Stringer("to_department", to.ID).
		Msg("Transferred case")
	c.Status, c.Department = next, to.ID
	if err = s.moveCaseRoom(ctx, evt, c, from, to, oldTeam); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Stringer("case_id", c.ID).Msg("Failed to move the case room")
		return fmt.Sprintf("%s gehört jetzt zu %s. Der Fallraum konnte aber nicht vollständig umziehen. Bitte melden Sie das Ihrer Administration. "+
			"/ Transferred, but moving the case room failed; please tell your administrators.", c.Reference, to.Name)
	}
	return fmt.Sprintf("%s wurde an %s abgegeben. / Transferred to %s.", c.Reference, to.Name, to.Name)
}

// moveCaseRoom moves the room from one department space to the other,
// updates its state, tells the citizen and announces the case to the new
// team; the old team leaves the room.
func (s *Service) moveCaseRoom(ctx context.Context, evt *event.Event, c *Case, from, to *config.DepartmentConfig, oldTeam []id.UserID) error {
	botIntent := s.opts.AS.BotIntent()
	for _, pair := range []struct {
		dept   *config.DepartmentConfig
		linked bool
	}{{from, false}, {to, true}} {
		space, err := s.opts.Departments.Space(ctx, pair.dept.ID)
		if err != nil {
			return err
		} else if space == "" {
			continue
		}
		if err = s.linkCaseRoom(ctx, space, c.RoomID, pair.linked); err != nil {
			return err
		}
		var parent any = appservice.Unlinked()
		if pair.linked {
			parent = appservice.SpaceParent(s.serverName())
		}
		if _, err = botIntent.SendStateEvent(ctx, c.RoomID, event.StateSpaceParent, space.String(), parent); err != nil {
			return err
		}
	}
	if _, err := botIntent.SendStateEvent(ctx, c.RoomID, protocol.CaseEventType, "", s.caseContent(c, nil)); err != nil {
		return err
	}
	notice := taggedNotice(protocol.NoticeCaseTransferred, fmt.Sprintf(
		"Ihr Anliegen wurde an „%s“ weitergegeben; Sie werden dort weiter betreut. / Your request was passed on to %s.", to.Name, to.Name), to.Name)
	if _, err := s.opts.Sender.Send(ctx, botIntent, c.RoomID, event.EventMessage, notice, appservice.TxnID(botIntent.UserID, c.RoomID, evt.ID, "transfer")); err != nil {
		return err
	}
	for _, u := range oldTeam {
		_, err := botIntent.KickUser(ctx, c.RoomID, &mautrix.ReqKickUser{UserID: u,
			Reason: "Fall an " + to.Name + " abgegeben / case transferred to " + to.Name})
		if err != nil && !errors.Is(err, mautrix.MForbidden) {
			return err
		}
	}
	state, err := botIntent.State(ctx, c.RoomID)
	if err != nil {
		return err
	}
	if err = s.convergeCaseRoomLevels(ctx, c.RoomID, state, caseRoomUsers(botIntent.UserID, nil), false); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Stringer("room_id", c.RoomID).Msg("Failed to update power levels")
	}
	return s.announceCase(ctx, c, to, announcement{Topic: "abgegeben von " + from.Name}, evt.ID)
}
