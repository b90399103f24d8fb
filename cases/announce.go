package cases

import (
	"context"
	"fmt"
	"html"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/bot"
	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/internal/plaintext"
	"github.com/rathaus-de/rathaus/officehours"
	"github.com/rathaus-de/rathaus/protocol"
)

// The staff room's announcement of a waiting case: what it is about, the
// first lines of the citizen's question (the staff room is private to the
// department), how long the citizen has waited and how to claim it.

// Limits of the quoted question: enough to decide who takes the case, not
// the whole letter.
const (
	quoteMaxLines = 3
	quoteMaxRunes = 300
	// serviceMaxRunes bounds the service key the citizen's channel reported.
	serviceMaxRunes = 64
)

// announcement is what the staff room is told about a case.
type announcement struct {
	Reference string
	// Topic is the bot's own words about the case ("abgegeben von …"), or
	// "" for a general enquiry.
	Topic string
	// Service is what the citizen's channel reported as the service asked
	// for; it is the citizen's input and shown as such.
	Service string
	// Question is the citizen's first message, or "".
	Question string
	// Asked is when the citizen asked; Now is when the announcement is made.
	Asked, Now time.Time
	// Schedule gives the department's time zone.
	Schedule officehours.Schedule
}

// content is the announcement as a notice: a plain body, and an HTML body
// in which the citizen's words are escaped and set apart as a quote. It
// mentions nobody, whatever the citizen wrote.
func (a announcement) content() *event.MessageEventContent {
	service := citizenLine(a.Service, serviceMaxRunes)
	topic := a.Topic
	switch {
	case topic != "":
	case service != "":
		topic = "Anfrage zu einer Leistung"
	default:
		topic = "allgemeine Anfrage"
	}
	claimDE := fmt.Sprintf("%s übernehmen %s", bot.Prefix, a.Reference)
	claimEN := fmt.Sprintf("%s claim %s", bot.Prefix, a.Reference)
	waitDE, waitEN := a.waited()
	esc := html.EscapeString

	plain := []string{fmt.Sprintf("Neuer Fall %s (%s) / new case", a.Reference, topic)}
	rich := []string{fmt.Sprintf("<p><strong>Neuer Fall %s</strong> (%s) / new case<br>", esc(a.Reference), esc(topic))}
	if service != "" {
		plain = append(plain, fmt.Sprintf("Leistung laut Angabe der Bürgerin oder des Bürgers / service as given by the citizen: „%s“", service))
		rich = append(rich, fmt.Sprintf("Leistung laut Angabe der Bürgerin oder des Bürgers / service as given by the citizen: „%s“<br>", esc(service)))
	}
	plain = append(plain, fmt.Sprintf("Gefragt: %s / asked %s", waitDE, waitEN))
	rich = append(rich, fmt.Sprintf("Gefragt: %s / asked %s</p>", esc(waitDE), esc(waitEN)))
	if lines := quoteLines(a.Question, quoteMaxLines, quoteMaxRunes); len(lines) > 0 {
		plain = append(plain, "Die Bürgerin oder der Bürger schreibt / the citizen writes:")
		rich = append(rich, "<p>Die Bürgerin oder der Bürger schreibt / the citizen writes:</p>")
		quoted := make([]string, len(lines))
		for i, l := range lines {
			plain = append(plain, "> "+l)
			quoted[i] = esc(l)
		}
		rich = append(rich, "<blockquote><p>"+strings.Join(quoted, "<br>")+"</p></blockquote>")
	}
	plain = append(plain, fmt.Sprintf("Übernehmen: %s – oder auf diese Nachricht antworten mit: %s übernehmen / claim: %s, or reply to this message with %s claim",
		claimDE, bot.Prefix, claimEN, bot.Prefix))
	rich = append(rich, fmt.Sprintf("<p>Übernehmen: <code>%s</code> – oder auf diese Nachricht antworten mit: <code>%s übernehmen</code> / "+
		"claim: <code>%s</code>, or reply to this message with <code>%s claim</code></p>",
		esc(claimDE), esc(bot.Prefix), esc(claimEN), esc(bot.Prefix)))
	return &event.MessageEventContent{MsgType: event.MsgNotice, Body: strings.Join(plain, "\n"),
		Format: event.FormatHTML, FormattedBody: strings.Join(rich, ""), Mentions: &event.Mentions{}}
}

// waited says how long ago the citizen asked: "gerade eben" for an
// announcement made at once, else the time and when that was.
func (a announcement) waited() (de, en string) {
	d := a.Now.Sub(a.Asked)
	if d < time.Minute {
		return "gerade eben", "just now"
	}
	whenDE, whenEN := a.Schedule.When(a.Asked, a.Now)
	var n int
	var unitDE, unitEN string
	switch {
	case d < time.Hour:
		n, unitDE, unitEN = int(d/time.Minute), "Minute", "minute"
	case d < 48*time.Hour:
		n, unitDE, unitEN = int(d/time.Hour), "Stunde", "hour"
	default:
		n, unitDE, unitEN = int(d/(24*time.Hour)), "Tag", "day"
	}
	if n != 1 {
		// Dative plural after "vor": Minuten, Stunden, Tagen.
		unitDE += map[string]string{"Minute": "n", "Stunde": "n", "Tag": "en"}[unitDE]
		unitEN += "s"
	}
	return fmt.Sprintf("vor %d %s (%s)", n, unitDE, whenDE), fmt.Sprintf("%d %s ago (%s)", n, unitEN, whenEN)
}

// quoteLines returns the first non-empty lines of a citizen's text, at
// most maxLines and maxRunes in all, cut at a word with "…" where the text
// goes on. Control and bidirectional formatting characters are removed,
// so the quote cannot hide or reorder what staff read.
func quoteLines(text string, maxLines, maxRunes int) []string {
	var lines []string
	budget := maxRunes
	more := false
	for _, line := range strings.Split(cleanCitizenText(text), "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if line == "" {
			continue
		}
		if len(lines) == maxLines || budget <= 0 {
			more = true
			break
		}
		if utf8.RuneCountInString(line) > budget {
			lines = append(lines, cutAtWord(line, budget))
			more = true
			break
		}
		lines = append(lines, line)
		budget -= utf8.RuneCountInString(line)
	}
	if more && len(lines) > 0 && !strings.HasSuffix(lines[len(lines)-1], "…") {
		lines[len(lines)-1] += " …"
	}
	return lines
}

// cutAtWord shortens s to at most n runes, before the last word that does
// not fit (a single word longer than n is cut inside), and marks the cut
// with "…".
func cutAtWord(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := string(r[:n])
	// Unless the cut falls between two words, the cut word goes.
	if i := strings.LastIndexByte(cut, ' '); r[n] != ' ' && i > 0 {
		cut = cut[:i]
	}
	return strings.TrimRightFunc(cut, unicode.IsSpace) + "…"
}

// citizenLine is a short citizen-provided value on one line, cleaned and
// cut like a quote; "" if nothing is left.
func citizenLine(s string, n int) string {
	s = strings.Join(strings.Fields(cleanCitizenText(s)), " ")
	if s == "" {
		return ""
	}
	return cutAtWord(s, n)
}

// cleanCitizenText is the citizen's text as every channel sees it
// (plaintext.Text), with tabs as spaces.
func cleanCitizenText(s string) string {
	return strings.ReplaceAll(plaintext.Text(s), "\t", " ")
}

// announceCase tells a department's staff room about a case waiting for
// them; cause makes the announcement's transaction id unique, so a retry
// never announces twice. The citizen's first message is quoted: question
// if the caller has it at hand, otherwise it is read from the case's
// timeline.
func (s *Service) announceCase(ctx context.Context, c *Case, d *config.DepartmentConfig, a announcement, cause id.EventID) error {
	staff, err := s.opts.Departments.StaffRoom(ctx, d.ID)
	if err != nil {
		return fmt.Errorf("failed to find the staff room of %s: %w", d.ID, err)
	} else if staff == "" {
		return fmt.Errorf("%w: %s has no staff room", ErrNoStaffRoom, d.ID)
	}
	if a.Question == "" {
		if a.Question, err = s.firstQuestion(ctx, c.ID); err != nil {
			return err
		}
	}
	a.Reference, a.Asked, a.Schedule = c.Reference, c.CreatedAt, d.Schedule
	if a.Now.IsZero() {
		a.Now = time.Now()
	}
	content := &event.Content{Parsed: a.content(), Raw: map[string]any{protocol.AnnouncedCaseKey: c.Reference}}
	botIntent := s.opts.AS.BotIntent()
	_, err = s.opts.Sender.Send(ctx, botIntent, staff, event.EventMessage, content, appservice.TxnID(botIntent.UserID, staff, cause, "announce"))
	return err
}

// firstQuestion is the text of the citizen's first message in the case's
// timeline, or "".
func (s *Service) firstQuestion(ctx context.Context, caseID protocol.CaseID) (string, error) {
	rows, err := s.opts.Store.CaseEventsAfter(ctx, caseID, 0, 20)
	if err != nil {
		return "", fmt.Errorf("failed to read the case's timeline: %w", err)
	}
	for _, row := range rows {
		if Origin(row.Origin) == OriginCitizen && EntryKind(row.Kind) == EntryText {
			return row.Body, nil
		}
	}
	return "", nil
}
