package bridge

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus"
	"github.com/rathaus-de/rathaus/appservice"
)

// HandleEvent implements appservice.Handler: every room event the
// homeserver sends us arrives here, in order per room.
func (b *Bridge) HandleEvent(ctx context.Context, evt *event.Event) error {
	if evt.Type.IsState() {
		mautrix.UpdateStateStore(ctx, b.as.StateStore, evt)
	}
	if err := b.recordCaseEvent(ctx, evt); err != nil {
		return err
	}
	switch evt.Type {
	case event.StateMember:
		return b.handleMember(ctx, evt)
	case event.EventMessage:
		return b.handleMessage(ctx, evt)
	}
	return nil
}

// handleMember accepts invites for the bot from users of our own server and
// declines all others: a foreign server cannot pull the bot into its rooms.
func (b *Bridge) handleMember(ctx context.Context, evt *event.Event) error {
	member := evt.Content.AsMember()
	if evt.GetStateKey() != b.cfg.BotUserID().String() || member.Membership != event.MembershipInvite {
		return nil
	}
	log := zerolog.Ctx(ctx)
	bot := b.as.BotIntent()
	if evt.Sender.Homeserver() != b.cfg.Homeserver.ServerName {
		log.Info().Stringer("inviter", evt.Sender).Msg("Declining invite from a user of another server")
		_, err := bot.LeaveRoom(ctx, evt.RoomID, &mautrix.ReqLeave{
			Reason: "rathaus nimmt nur Einladungen von Konten dieses Servers an / rathaus only accepts invites from users of this server",
		})
		return permanentIfRefused(err)
	}
	log.Info().Stringer("inviter", evt.Sender).Msg("Accepting invite")
	_, err := bot.JoinRoomByID(ctx, evt.RoomID)
	if err == nil {
		err = b.as.StateStore.SetMembership(ctx, evt.RoomID, bot.UserID, event.MembershipJoin)
	}
	return permanentIfRefused(err)
}

// handleMessage answers bot commands. Messages of our own users (the bot,
// citizen ghosts) are never read as commands.
func (b *Bridge) handleMessage(ctx context.Context, evt *event.Event) error {
	if b.cfg.IsOurUser(evt.Sender) {
		return nil
	}
	msg := evt.Content.AsMessage()
	if msg.MsgType != event.MsgText || msg.NewContent != nil || msg.RelatesTo.GetReplaceID() != "" {
		return nil // edits are not re-run as commands
	}
	cmd, ok := ParseCommand(msg.Body)
	if !ok {
		return nil
	}
	logged := cmd.Name
	if _, known := commandPermissions[logged]; !known {
		logged = "unknown" // free text a person typed is never logged
	}
	zerolog.Ctx(ctx).Debug().Str("command", logged).Stringer("sender", evt.Sender).Msg("Handling bot command")
	return b.reply(ctx, evt, b.runCommand(ctx, evt, cmd))
}

// runCommand returns the answer to a command. Its effects (a stored
// status, a reconciliation) are idempotent, so a command replayed after a
// crash does no harm.
func (b *Bridge) runCommand(ctx context.Context, evt *event.Event, cmd Command) string {
	cfg := b.config()
	if no := refusal(cfg, cmd.Name, evt.Sender); no != "" {
		return no
	}
	noArgs := func(answer func() string) string {
		if len(cmd.Args) > 0 {
			return fmt.Sprintf("„%s %s“ erwartet keine weiteren Angaben. / %q takes no arguments.", CommandPrefix, cmd.Name, cmd.Name)
		}
		return answer()
	}
	switch cmd.Name {
	case "", "help", "hilfe":
		return noArgs(func() string { return helpText })
	case "ping":
		return noArgs(func() string {
			lag := time.Since(time.UnixMilli(evt.Timestamp)).Round(time.Millisecond)
			return fmt.Sprintf("Pong! rathaus ist erreichbar (%s). / rathaus is up.", lag)
		})
	case "version":
		return noArgs(func() string { return "rathaus " + rathaus.Version })
	case "departments", "abteilungen":
		return noArgs(func() string { return b.departmentsAnswer(ctx, time.Now()) })
	case "status":
		return b.statusCommand(ctx, evt.Sender, cmd.Args)
	case "sync":
		return noArgs(func() string { return b.syncCommand(ctx) })
	case "claim", "übernehmen":
		return b.claimCommand(ctx, evt.Sender, cmd.Args)
	case "close", "schließen":
		return noArgs(func() string { return b.caseRoomCommand(ctx, evt, ActionClose) })
	case "resolve", "erledigt":
		return noArgs(func() string { return b.caseRoomCommand(ctx, evt, ActionResolve) })
	case "reopen", "wiedereröffnen":
		return noArgs(func() string { return b.caseRoomCommand(ctx, evt, ActionReopen) })
	case "transfer", "abgeben":
		return b.transferCommand(ctx, evt, cmd.Args)
	default:
		name := truncate(cmd.Name, 32)
		return fmt.Sprintf("Unbekannter Befehl „%s“. „%s help“ zeigt alle Befehle. / Unknown command; see %s help.", name, CommandPrefix, CommandPrefix)
	}
}

var helpText = strings.Join([]string{
	"rathaus – Befehle / commands:",
	CommandPrefix + " help – diese Hilfe / this help",
	CommandPrefix + " ping – prüft, ob rathaus antwortet / checks that rathaus answers",
	CommandPrefix + " version – zeigt die Version / shows the version",
	CommandPrefix + " departments – Abteilungen: geöffnet?, wer ist verfügbar / departments: open?, who is available",
	CommandPrefix + " status <verfügbar|beschäftigt|abwesend|offline> – eigener Status (Mitarbeitende) / your status (staff)",
	CommandPrefix + " sync – Räume mit der Konfiguration abgleichen (Admins) / converge rooms to the config (admins)",
	CommandPrefix + " claim <Aktenzeichen> – einen wartenden Fall übernehmen (Team der Abteilung) / claim a queued case (department staff)",
	CommandPrefix + " resolve, " + CommandPrefix + " close, " + CommandPrefix + " reopen – im Fallraum: Fall erledigen, schließen, wieder öffnen / in a case room: resolve, close, reopen",
	CommandPrefix + " transfer <Abteilung> – im Fallraum: an eine andere Abteilung abgeben / in a case room: hand to another department",
}, "\n")

// reply sends a plain notice in reply to evt through the outbox, with a
// transaction id derived from the event: replayed after a crash, the reply
// is not sent twice.
func (b *Bridge) reply(ctx context.Context, to *event.Event, text string) error {
	content := &event.MessageEventContent{
		MsgType:   event.MsgNotice,
		Body:      text,
		RelatesTo: &event.RelatesTo{InReplyTo: &event.InReplyTo{EventID: to.ID}},
		Mentions:  &event.Mentions{},
	}
	bot := b.as.BotIntent()
	_, err := b.sender.Send(ctx, bot, to.RoomID, event.EventMessage, content, TxnID(bot.UserID, to.RoomID, to.ID, "reply"))
	if err != nil {
		return permanentIfRefused(fmt.Errorf("failed to send reply: %w", err))
	}
	return nil
}

// TxnID derives a Matrix transaction id from who sends where, the event
// being handled and the purpose of the request, so retries of the same
// work reuse it and different sends never share one.
func TxnID(sender id.UserID, room id.RoomID, cause id.EventID, purpose string) string {
	sum := sha256.Sum256([]byte(string(sender) + "\x00" + string(room) + "\x00" + string(cause) + "\x00" + purpose))
	return "rathaus-" + base64.RawURLEncoding.EncodeToString(sum[:18])
}

// permanentIfRefused marks errors that a retry cannot fix: the homeserver
// understood the request and said no (4xx other than rate limiting).
func permanentIfRefused(err error) error {
	var httpErr mautrix.HTTPError
	if err != nil && errors.As(err, &httpErr) && httpErr.Response != nil {
		code := httpErr.Response.StatusCode
		if code >= 400 && code < 500 && code != 429 {
			return fmt.Errorf("%w: %w", appservice.ErrPermanent, err)
		}
	}
	return err
}
