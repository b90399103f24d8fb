package tickets

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/bot"
	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/internal/plaintext"
)

// The `!rathaus ticket` commands: everything the ticket widget does, for
// clients without widgets (Element X, FluffyChat).

// ticketUsage is the answer to a sub-command the command does not know.
const ticketUsage = "Verwendung / usage: !rathaus ticket | !rathaus ticket link <Nr.> | " +
	"!rathaus ticket status <rueckfrage|erledigt> | !rathaus ticket nachfordern <Vorlage>"

// Commands are the ticket commands.
func (s *Service) Commands() []bot.Command {
	return []bot.Command{{
		Names: []string{"ticket"}, Permission: bot.Staff,
		Args: "[link <Nr.> | status <rueckfrage|erledigt> | nachfordern <" + templateNames() + ">]",
		Help: "im Fallraum: zeigt das OZG-Ticket, verknüpft eine Ticketnummer, setzt den Status oder fordert Unterlagen an / " +
			"in a case room: shows the OZG ticket, links a ticket number, sets the status or requests documents",
		Run: s.ticketCommand,
	}}
}

func templateNames() string {
	names := make([]string, len(Templates))
	for i, t := range Templates {
		names[i] = t.ID
	}
	return strings.Join(names, "|")
}

func (s *Service) ticketCommand(ctx context.Context, req *bot.Request) string {
	room, sender := req.Event.RoomID, req.Sender
	if len(req.Args) == 0 {
		sum, err := s.Summary(ctx, room, sender)
		if err != nil {
			return errorText(ctx, err)
		}
		return SummaryText(sum)
	}
	sub, args := strings.ToLower(req.Args[0]), req.Args[1:]
	switch {
	case sub == "link" || sub == "verknüpfen":
		if len(args) != 1 {
			return "Bitte genau eine Ticketnummer angeben. / Please give exactly one ticket number."
		}
		sum, err := s.LinkExternalRef(ctx, room, sender, args[0])
		if err != nil {
			return errorText(ctx, err)
		}
		return fmt.Sprintf("%s: Ticketnummer %s verknüpft. / ticket number linked.", sum.Reference, sum.ExternalRef)
	case sub == "status" && len(args) == 1:
		st, err := ParseStatus(args[0])
		if err != nil {
			return errorText(ctx, err)
		}
		sum, err := s.SetStatus(ctx, room, sender, st, req.Event.ID.String())
		if err != nil {
			return errorText(ctx, err)
		}
		de, en := cases.StatusName(sum.CaseStatus)
		return fmt.Sprintf("%s: %s / %s", sum.Reference, de, en)
	case (sub == "nachfordern" || sub == "request") && len(args) == 1:
		tpl, err := s.RequestDocuments(ctx, room, sender, args[0], req.Event.ID.String())
		if err != nil {
			return errorText(ctx, err)
		}
		return fmt.Sprintf("Anforderung „%s“ an die Bürgerin oder den Bürger gesendet. / Request for the %s sent to the citizen.", tpl.LabelDE, tpl.LabelEN)
	}
	return ticketUsage
}

// errorText is the answer to a refused or failed action.
func errorText(ctx context.Context, err error) string {
	switch {
	case errors.Is(err, ErrNotHandling):
		return "Nur wer den Fall bearbeitet (übernommen hat), kann das. / Only staff handling (who claimed) the case can do that."
	case errors.Is(err, ErrNoTicket):
		return "Dieser Fall hat kein OZG-Ticket. / This case has no OZG ticket."
	case errors.Is(err, ErrBadExternalRef):
		return fmt.Sprintf("Die Ticketnummer darf höchstens %d Zeichen haben: Buchstaben, Ziffern und - _ . / : # . / "+
			"The ticket number may have at most %d characters: letters, digits and - _ . / : # .", MaxExternalRef, MaxExternalRef)
	case errors.Is(err, ErrUnknownStatus):
		return "Bekannte Status: rueckfrage (Rückfrage an Bürger:in), erledigt. / Known statuses: awaiting, resolved."
	case errors.Is(err, ErrUnknownTemplate):
		return "Bekannte Vorlagen / known templates: " + templateNames()
	case errors.Is(err, ErrCaseEnded):
		return "Der Fall ist beendet; die Bürgerin oder der Bürger liest nicht mehr mit. / The case has ended; the citizen no longer reads it."
	}
	if text := cases.StaffText(err); text != "" {
		return text
	}
	zerolog.Ctx(ctx).Error().Err(err).Msg("Ticket action failed")
	return "Das hat nicht geklappt; bitte versuchen Sie es noch einmal. / That did not work; please try again."
}

// SummaryText is the summary as the bot answers `!rathaus ticket`.
func SummaryText(sum *Summary) string {
	t := &sum.Ticket
	de, en := cases.StatusName(sum.CaseStatus)
	lines := []string{fmt.Sprintf("Ticket %s · %s (%s)", t.ID, sum.Reference, sum.Department)}
	add := func(label, value string) {
		if v := plaintext.Line(value, 200); v != "" {
			lines = append(lines, label+": "+v)
		}
	}
	add("Fallstatus / case status", de+" / "+en)
	if t.Verified {
		add("Online-Dienst / online service", t.Service.Name)
	} else {
		add("Signatur / signature", "nicht geprüft / unverified")
	}
	add("Leistung (LeiKa) / service key", t.Leika)
	add("Schritt / step", t.Step)
	add("Fehlercode / error code", t.ErrorCode)
	add("Vertrauensniveau / trust level", string(t.Trust))
	add("FIT-Connect Einreichung / submission", t.FITConnect.Submission)
	add("Status der Einreichung / submission status", sum.SubmissionStatus)
	add("Externe Ticketnummer / external ticket", sum.ExternalRef)
	if len(sum.SubmissionHistory) > 0 {
		lines = append(lines, "Verlauf der Einreichung / submission history:")
		for _, st := range sum.SubmissionHistory {
			lines = append(lines, fmt.Sprintf("  %s %s", at(st.At), plaintext.Line(st.Status, 32)))
		}
	}
	if len(sum.History) > 0 {
		lines = append(lines, "Verlauf / history:")
		for _, h := range sum.History {
			de, en := cases.StatusName(h.To)
			lines = append(lines, fmt.Sprintf("  %s %s / %s (%s)", at(h.At), de, en, actorName(h.Actor)))
		}
	}
	return strings.Join(lines, "\n")
}

// actorName is who made a change, as staff read it.
func actorName(actor string) string {
	switch actor {
	case "citizen":
		return "Bürger:in / citizen"
	case "", "system":
		return "rathaus"
	}
	return plaintext.Line(actor, 80)
}
