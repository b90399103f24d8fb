package guestchat

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/internal/plaintext"
	"github.com/rathaus-de/rathaus/protocol"
)

// transcriptLabels are the transcript's own words, German first; the rest
// it shares with the page (pageTexts).
var transcriptLabels = map[string]map[string]string{
	"de": {"title": "Gesprächsverlauf", "reference": "Aktenzeichen", "department": "Abteilung", "authority": "Behörde",
		"created": "Begonnen", "exported": "Heruntergeladen", "file": "Datei", "tz": "Zeiten in"},
	"en": {"title": "Conversation", "reference": "Reference", "department": "Department", "authority": "Authority",
		"created": "Started", "exported": "Downloaded", "file": "File", "tz": "Times in"},
}

// transcriptZone is the time zone of the transcript's times.
var transcriptZone = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return time.UTC
	}
	return loc
}()

func (s *Server) transcript(w http.ResponseWriter, r *http.Request, _ *Session, c *cases.Case) {
	lang := "de"
	if r.URL.Query().Get("lang") == "en" {
		lang = "en"
	}
	l := transcriptLabels[lang]
	team := c.Department.String()
	if d, ok := s.dir.Department(c.Department); ok {
		team = d.Name
	}
	var b strings.Builder
	ts := func(t time.Time) string { return t.In(transcriptZone).Format("2006-01-02 15:04") }
	fmt.Fprintf(&b, "%s – %s\n", l["title"], c.Reference)
	fmt.Fprintf(&b, "%s: %s\n%s: %s\n%s: %s\n%s: %s\n%s: %s\n%s %s\n\n",
		l["authority"], s.dir.Authority().Name, l["department"], team, l["reference"], c.Reference,
		l["created"], ts(c.CreatedAt), l["exported"], ts(time.Now()), l["tz"], transcriptZone)
	after := int64(0)
	for {
		events, err := s.cases.Timeline(r.Context(), c.ID, after, streamBatch)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		for _, e := range events {
			after = e.Seq
			var who, text string
			system := pageText(lang, "chat.system")
			switch {
			case e.Kind == cases.EntryEdit || e.Kind == cases.EntryRedaction:
				continue // the changed message shows as it is now
			case e.Kind == cases.EntryStatus:
				// Steps of the case read as on the page: a line without a sender.
				text = pageText(lang, "chat.statusChanged", "status", statusText(lang, protocol.CaseStatus(e.Body)))
			case e.Kind == cases.EntryStaffJoined:
				text = pageText(lang, "chat.staffJoined", "team", e.Body)
			case e.Kind == cases.EntrySystem:
				if text = pageText(lang, "notice."+e.Body); text == "" {
					continue // a kind of a newer version: the page skips it too
				}
			case e.Kind == cases.EntryTransferred:
				text = pageText(lang, "notice."+protocol.NoticeCaseTransferred, "team", e.Body)
			case e.Origin == cases.OriginCitizen:
				who, text = pageText(lang, "chat.you"), e.Body
			case e.Origin == cases.OriginStaff:
				who, text = team, e.Body
			default:
				who, text = system, e.Body
			}
			if e.MediaURI != "" {
				text = fmt.Sprintf("[%s: %s]", l["file"], cleanFileName(e.MediaName, e.MediaType))
			}
			if e.Kind == cases.EntryRedacted {
				text = pageText(lang, "chat.redacted")
			}
			if !e.EditedAt.IsZero() {
				text += " " + pageText(lang, "chat.edited")
			}
			// Stored before the timeline normalised bodies, or from a
			// client: no CR or separator may forge a line of its own.
			text = plaintext.Indent(plaintext.Text(text), "    ")
			if who == "" {
				fmt.Fprintf(&b, "[%s] %s\n", ts(e.TS), text)
			} else {
				fmt.Fprintf(&b, "[%s] %s: %s\n", ts(e.TS), who, text)
			}
		}
		if len(events) < streamBatch {
			break
		}
	}
	name := "Gespraech-" + c.Reference + ".txt"
	if lang == "en" {
		name = "Conversation-" + c.Reference + ".txt"
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(b.String()))
}
