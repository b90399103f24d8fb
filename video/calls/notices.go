package calls

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/video"
)

// VideoWidgetID is the state key and id of the staff call page as a room
// widget.
const VideoWidgetID = "de.rathaus.video"

// The commands and reactions the waiting notice offers.
var (
	admitReactions = []string{"👍", "👍️", "✅", "✅️"}
	denyReactions  = []string{"👎", "👎️", "❌", "❌️"}
)

const waitingText = "Bürger:in wartet im Videoraum. Einlassen: !rathaus video admit · Ablehnen: !rathaus video deny " +
	"(oder mit 👍 / 👎 auf diese Nachricht reagieren). / The citizen is waiting in the video room. " +
	"Admit: !rathaus video admit · Deny: !rathaus video deny (or react with 👍 / 👎 to this message)."

func startedText(page string, actor id.UserID) string {
	if page == "" {
		return fmt.Sprintf("Videoberatung läuft (gestartet von %s). / Video consultation running (started by %s).", actor, actor)
	}
	return fmt.Sprintf("Videoberatung läuft — Beitreten: %s (gestartet von %s). / Video consultation running — join: %s (started by %s).",
		page, actor, page, actor)
}

// summaryText is the line posted when a call ends: how long, who took
// part, who ended it. Never media, never content.
func summaryText(st *callState, by string, now time.Time) string {
	mins := int(now.Sub(st.started).Round(time.Minute) / time.Minute)
	var who []string
	for i := range st.took {
		who = append(who, whoText(i))
	}
	slices.Sort(who)
	took := strings.Join(who, ", ")
	if took == "" {
		took = "niemand / nobody"
	}
	byText := by
	switch by {
	case byClosed:
		byText = "rathaus (Fall beendet oder Raum verlassen / case ended or room left)"
	case byEmpty:
		byText = "rathaus (niemand mehr im Anruf / nobody left in the call)"
	}
	return fmt.Sprintf("Videoberatung beendet von %s. Dauer: %d Min. Teilgenommen: %s. / Video consultation ended by %s. Duration: %d min. Took part: %s.",
		byText, mins, took, byText, mins, took)
}

// notice posts a line of the call into the case room, through the outbox;
// key makes its transaction id (a command's event id), "" a fresh one.
// A failure is logged: the call goes on without its line.
func (s *Service) notice(ctx context.Context, room id.RoomID, kind, key, text string) id.EventID {
	if key == "" {
		var b [9]byte
		_, _ = rand.Read(b[:])
		key = hex.EncodeToString(b[:])
	}
	bot := s.opts.AS.BotIntent()
	content := &event.Content{
		Parsed: &event.MessageEventContent{MsgType: event.MsgNotice, Body: text},
		Raw:    map[string]any{protocol.NoticeKindKey: kind},
	}
	evt, err := s.opts.Sender.Send(ctx, bot, room, event.EventMessage, content,
		appservice.TxnID(bot.UserID, room, id.EventID(key), "video."+kind))
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("kind", kind).Msg("Failed to post a video notice")
	}
	return evt
}

// setWidget adds the staff call page as a room widget (Element Web and
// Desktop show it); other clients use the link in the notice.
func (s *Service) setWidget(ctx context.Context, room id.RoomID) {
	if s.opts.WidgetURL == "" {
		return
	}
	bot := s.opts.AS.BotIntent()
	w := &protocol.WidgetContent{ID: VideoWidgetID, Type: "m.custom", URL: s.opts.WidgetURL, Name: "Videoberatung",
		CreatorUserID: bot.UserID.String(), Data: map[string]any{"title": "Videoberatung / video consultation"}}
	if _, err := bot.SendStateEvent(ctx, room, protocol.WidgetEventType, VideoWidgetID, w); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("Failed to add the video widget to the room")
	}
}

// errorText words a refusal for a command's answer.
func errorText(ctx context.Context, err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, video.ErrNotStaff):
		return "Nur wer den Fall bearbeitet (übernommen hat), kann das. / Only staff handling (who claimed) the case can do that."
	case errors.Is(err, video.ErrNoCall):
		return "In diesem Fall läuft keine Videoberatung. / No video consultation is running in this case."
	case errors.Is(err, video.ErrCaseClosed):
		return "Der Fall ist beendet; keine Videoberatung. / The case has ended; no video consultation."
	case errors.Is(err, video.ErrNotWaiting):
		return "Niemand wartet im Videoraum. / Nobody is waiting in the video room."
	}
	if text := cases.StaffText(err); text != "" {
		return text
	}
	zerolog.Ctx(ctx).Error().Err(err).Msg("Video action failed")
	return "Das hat nicht geklappt; bitte versuchen Sie es noch einmal. / That did not work; please try again."
}
