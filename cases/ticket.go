package cases

import (
	"context"
	"fmt"
	"html"
	"slices"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/internal/plaintext"
	"github.com/rathaus-de/rathaus/protocol"
)

// The OZG ticket of a case opened by a hand-over from an online service:
// the room's de.rathaus.ticket state (set when the room is created) and a
// readable summary as the case room's first notice, so staff in every
// client see where the citizen got stuck. The ticket never holds form
// contents (protocol.TicketContent).

// ticketTopic is the staff room announcement's topic for a ticket.
func ticketTopic(t *protocol.TicketContent) string {
	if !t.Verified {
		return "Hilfe-Seite ohne geprüfte Übergabe / help page, unverified hand-over"
	}
	return fmt.Sprintf("Übergabe aus dem Online-Dienst „%s“ / hand-over from an online service", plaintext.Line(t.Service.Name, 80))
}

// ticketLine is one "label: value" line of the summary.
type ticketLine struct{ label, value string }

// ticketSummary is the summary notice: a plain body and the same as HTML,
// every value escaped. d is the department the case opened in: if it does
// not list the ticket's LeiKa key, the case came by ozg.default_department
// and staff are told so.
func ticketSummary(t *protocol.TicketContent, d *config.DepartmentConfig) *event.MessageEventContent {
	esc := html.EscapeString
	var title string
	var lines []ticketLine
	if t.Verified {
		title = fmt.Sprintf("Übergabe aus dem Online-Dienst „%s“ / hand-over from the online service", t.Service.Name)
		if t.Service.Version != "" {
			lines = append(lines, ticketLine{"Version", t.Service.Version})
		}
		lines = append(lines,
			ticketLine{"Leistung (LeiKa) / service key", t.Leika},
			ticketLine{"Schritt / step", t.Step},
			ticketLine{"Fehlercode / error code", t.ErrorCode},
			ticketLine{"Vertrauensniveau / trust level", string(t.Trust)},
			ticketLine{"Regionalschlüssel (ARS)", t.ARS},
			ticketLine{"FIT-Connect Einreichung / submission", t.FITConnect.Submission},
			ticketLine{"FIT-Connect Zustellpunkt / destination", t.FITConnect.Destination},
			ticketLine{"FIT-Connect Vorgang / case", t.FITConnect.Case})
		if t.Lang == "en" {
			lines = append(lines, ticketLine{"Sprache der Seite / page language", "Englisch / English"})
		}
		lines = append(lines, ticketLine{"Signatur / signature", "geprüft / verified"})
	} else {
		title = "Hilfe-Seite ohne gültige Übergabe geöffnet / help page opened without a valid hand-over"
		lines = append(lines, ticketLine{"Signatur / signature",
			"nicht geprüft: Dienst, Schritt und Fehler sind unbekannt / unverified: service, step and error are unknown"})
	}
	lines = append(lines, ticketLine{"Ticket", t.ID.String()})

	plain := []string{title}
	rich := []string{"<p><strong>" + esc(title) + "</strong></p><ul>"}
	for _, l := range lines {
		v := plaintext.Line(l.value, 200)
		if v == "" {
			continue
		}
		plain = append(plain, fmt.Sprintf("%s: %s", l.label, v))
		rich = append(rich, fmt.Sprintf("<li>%s: %s</li>", esc(l.label), esc(v)))
	}
	rich = append(rich, "</ul>")
	if t.Verified && t.Leika != "" && !slices.Contains(d.Services, t.Leika) {
		note := fmt.Sprintf("Hinweis: Keine Abteilung ist für die Leistung %s eingetragen; der Fall kam deshalb an %s (ozg.default_department). "+
			"Bitte prüfen und bei Bedarf abgeben. / Note: no department lists this service, so the case came to the default department; "+
			"please check and transfer it if needed.", t.Leika, d.Name)
		plain = append(plain, note)
		rich = append(rich, "<p><strong>"+esc(note)+"</strong></p>")
	}
	return &event.MessageEventContent{MsgType: event.MsgNotice, Body: strings.Join(plain, "\n"),
		Format: event.FormatHTML, FormattedBody: strings.Join(rich, ""), Mentions: &event.Mentions{}}
}

// sendTicketSummary posts the ticket's summary in the case room, once per
// case (the transaction id is the case's), before the citizen's first
// message.
func (s *Service) sendTicketSummary(ctx context.Context, c *Case, d *config.DepartmentConfig, t *protocol.TicketContent) error {
	botIntent := s.opts.AS.BotIntent()
	content := &event.Content{Parsed: ticketSummary(t, d), Raw: map[string]any{protocol.NoticeKindKey: protocol.NoticeTicketSummary}}
	_, err := s.opts.Sender.Send(ctx, botIntent, c.RoomID, event.EventMessage, content,
		appservice.TxnID(botIntent.UserID, c.RoomID, id.EventID(c.ID), "ticket"))
	if err != nil {
		return fmt.Errorf("failed to send the ticket's summary: %w", err)
	}
	return nil
}

// ticketWidget is the ticket widget's state in a case room with a ticket
// (Element Web and Desktop show it; everything it does is also a command).
func ticketWidget(url string, bot id.UserID) *protocol.WidgetContent {
	return &protocol.WidgetContent{ID: protocol.TicketWidgetID, Type: "m.custom", URL: url, Name: "OZG-Ticket",
		CreatorUserID: bot.String(), Data: map[string]any{"title": "OZG-Ticket / OZG ticket"}}
}
