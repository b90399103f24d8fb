package calls

import (
	"context"
	"fmt"
	"strings"

	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/bot"
	"github.com/rathaus-de/rathaus/video"
)

// The `!rathaus video` commands: everything the staff call page does, for
// clients without widgets.

const videoUsage = "Verwendung / usage: !rathaus video | !rathaus video admit | !rathaus video deny | " +
	"!rathaus video kick [@nutzer:server] | !rathaus video mute [@nutzer:server] | !rathaus video end | !rathaus video status"

// Commands are the video commands.
func (s *Service) Commands() []bot.Command {
	return []bot.Command{{
		Names: []string{"video"}, Permission: bot.Staff,
		Args: "[admit | deny | kick [@user] | mute [@user] | end | status]",
		Help: "im Fallraum: startet die Videoberatung, lässt die Bürgerin oder den Bürger ein oder lehnt ab, entfernt, bittet um Stummschaltung, beendet / " +
			"in a case room: starts the video consultation, admits or denies the citizen, removes, asks to mute, ends",
		Run: s.videoCommand,
	}}
}

func (s *Service) videoCommand(ctx context.Context, req *bot.Request) string {
	room, actor, key := req.Event.RoomID, req.Sender, req.Event.ID.String()
	sub := "start"
	if len(req.Args) > 0 {
		sub = strings.ToLower(req.Args[0])
	}
	target := CitizenIdentity
	if len(req.Args) == 2 {
		target = video.Identity(req.Args[1])
		if _, _, err := id.UserID(req.Args[1]).Parse(); err != nil && req.Args[1] != string(CitizenIdentity) {
			return videoUsage
		}
	} else if len(req.Args) > 2 {
		return videoUsage
	}
	var err error
	switch sub {
	case "start", "starten":
		if err = s.Start(ctx, room, actor, key); err == nil {
			if page := s.opts.StaffPageURL(room); page != "" {
				return "Videoberatung läuft — Beitreten: " + page + " / Video consultation running — join: " + page
			}
			return "Videoberatung läuft. / Video consultation running."
		}
	case "admit", "einlassen":
		if err = s.Admit(ctx, room, actor, target, key); err == nil {
			return "Eingelassen. / Admitted."
		}
	case "deny", "ablehnen":
		if err = s.Deny(ctx, room, actor, target, key); err == nil {
			return "Abgelehnt. / Denied."
		}
	case "kick", "entfernen":
		if err = s.Kick(ctx, room, actor, target, key); err == nil {
			return "Entfernt. / Removed."
		}
	case "mute", "stumm":
		if err = s.RequestMute(ctx, room, actor, target, "audio"); err == nil {
			return "Bitte um Stummschaltung gesendet. / Asked to mute."
		}
	case "end", "beenden":
		if err = s.End(ctx, room, actor, key); err == nil {
			return "Videoberatung beendet. / Video consultation ended."
		}
	case "status":
		v, err := s.StaffView(ctx, room, actor)
		if err != nil {
			return errorText(ctx, err)
		}
		return statusText(v)
	default:
		return videoUsage
	}
	return errorText(ctx, err)
}

func statusText(v *video.StaffView) string {
	if !v.Running && len(v.Waiting) == 0 {
		return "Keine Videoberatung. / No video consultation."
	}
	state := "läuft nicht / not running"
	if v.Running {
		state = "läuft / running"
	}
	var in []string
	for _, p := range v.Participants {
		in = append(in, whoText(p.Identity)+qualityText(p.Quality))
	}
	return fmt.Sprintf("Videoberatung %s. Im Anruf / in the call: %d (%s). Wartend / waiting: %d.",
		state, len(v.Participants), strings.Join(in, ", "), len(v.Waiting))
}

// qualityText words a participant's connection for the status line:
// round trip and loss, and a warning when it is poor.
func qualityText(q *video.Quality) string {
	if q == nil {
		return ""
	}
	poor := ""
	if q.Poor() {
		poor = "schlechte Verbindung / poor connection, "
	}
	return fmt.Sprintf(" [%sRTT %d ms, Verlust / loss ↓%.0f %% ↑%.0f %%]", poor, q.RTT.Milliseconds(),
		q.ReceiveLoss*100, q.SendLoss*100)
}
