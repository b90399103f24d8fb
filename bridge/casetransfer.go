package bridge

import (
	"context"
	"errors"
	"fmt"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// transferCommand moves a case from its department to another one inside
// the authority. The case waits there again; the old team leaves the room.
func (b *Bridge) transferCommand(ctx context.Context, evt *event.Event, args []string) string {
	if len(args) != 1 {
		return "Aufruf / usage: " + CommandPrefix + " transfer <Abteilung/department id>"
	}
	c, from, refusal := b.staffCaseInRoom(ctx, evt)
	if refusal != "" {
		return refusal
	}
	to := b.config().Department(config.DepartmentID(args[0]))
	if to == nil {
		return fmt.Sprintf("Es gibt keine Abteilung „%s“; „%s departments“ zeigt alle. / No such department.", truncate(args[0], 32), CommandPrefix)
	} else if to.ID == from.ID {
		return "Der Fall ist schon in dieser Abteilung. / The case already belongs to that department."
	}
	next, err := NextCaseStatus(protocol.CaseStatus(c.Status), ActionTransfer)
	if err != nil {
		return fmt.Sprintf("%s: %v", c.Reference, err)
	}
	oldTeam, err := b.store.CaseAssignees(ctx, c.ID)
	if err != nil {
		return "Der Fall konnte nicht abgegeben werden. / Could not transfer the case."
	}
	err = b.store.TransferCase(ctx, c.ID, c.Status, string(next), string(to.ID), evt.Sender.String())
	if errors.Is(err, store.ErrConflict) {
		return fmt.Sprintf("%s: %v", c.Reference, errCaseChanged)
	} else if err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("Failed to transfer case")
		return "Der Fall konnte nicht abgegeben werden. / Could not transfer the case."
	}
	c.Status, c.Department = string(next), string(to.ID)
	if err = b.moveCaseRoom(ctx, evt, c, from, to, oldTeam); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Str("case_id", c.ID).Msg("Failed to move the case room")
		return fmt.Sprintf("%s gehört jetzt zu %s, aber der Raum konnte nicht vollständig umziehen. / Transferred, but moving the room failed.", c.Reference, to.Name)
	}
	return fmt.Sprintf("%s wurde an %s abgegeben. / Transferred to %s.", c.Reference, to.Name, to.Name)
}

// moveCaseRoom moves the room from one department space to the other,
// updates its state, tells the citizen and announces the case to the new
// team; the old team leaves the room.
func (b *Bridge) moveCaseRoom(ctx context.Context, evt *event.Event, c *store.Case, from, to *config.DepartmentConfig, oldTeam []id.UserID) error {
	bot := b.as.BotIntent()
	for _, pair := range []struct {
		dept   *config.DepartmentConfig
		linked bool
	}{{from, false}, {to, true}} {
		space, err := b.store.GetManagedRoom(ctx, store.RoomDepartmentSpace, string(pair.dept.ID))
		if err != nil {
			return err
		} else if space == nil {
			continue
		}
		if err = b.linkCaseRoom(ctx, space.RoomID, c.RoomID, pair.linked); err != nil {
			return err
		}
		var parent any = map[string]any{}
		if pair.linked {
			parent = b.spaceParent()
		}
		if _, err = bot.SendStateEvent(ctx, c.RoomID, event.StateSpaceParent, space.RoomID.String(), parent); err != nil {
			return err
		}
	}
	if _, err := bot.SendStateEvent(ctx, c.RoomID, protocol.CaseEventType, "", b.caseContent(c, nil)); err != nil {
		return err
	}
	notice := &event.MessageEventContent{MsgType: event.MsgNotice, Body: fmt.Sprintf(
		"Ihr Anliegen wurde an „%s“ weitergegeben; Sie werden dort weiter betreut. / Your request was passed on to %s.", to.Name, to.Name)}
	if _, err := b.sender.Send(ctx, bot, c.RoomID, event.EventMessage, notice, TxnID(bot.UserID, c.RoomID, evt.ID, "transfer")); err != nil {
		return err
	}
	for _, u := range oldTeam {
		_, err := bot.KickUser(ctx, c.RoomID, &mautrix.ReqKickUser{UserID: u,
			Reason: "Fall an " + to.Name + " abgegeben / case transferred to " + to.Name})
		if err != nil && !errors.Is(err, mautrix.MForbidden) {
			return err
		}
	}
	state, err := bot.State(ctx, c.RoomID)
	if err != nil {
		return err
	}
	var report ReconcileReport
	b.convergePowerLevels(ctx, c.RoomID, state, map[id.UserID]int{bot.UserID: config.BotPowerLevel}, false, &report)
	return b.announceCase(ctx, c, to, "abgegeben von "+from.Name, evt.ID)
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
