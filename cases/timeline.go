package cases

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"slices"
	"strings"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/rathaus-de/rathaus/bot"
	"github.com/rathaus-de/rathaus/internal/plaintext"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// handleRoomEvent keeps what the citizen may see of a case room event in
// the case's timeline, from which the guest chat's live stream is served:
// messages of the citizen, staff and the bot, status changes and staff
// joining. Staff commands and the bot's replies to them stay among staff.
// The router calls it for case rooms only, in room order, so the timeline
// is in room order too.
func (s *Service) handleRoomEvent(ctx context.Context, evt *event.Event, room bot.RoomInfo) error {
	if evt.ID == "" || evt.RoomID == "" {
		return nil
	}
	c, err := s.Case(ctx, protocol.CaseID(room.Key))
	if err != nil || c == nil || c.RoomID != evt.RoomID {
		// A purged case has no room any more: what its room still sees
		// (the purge's own events) is not the citizen's.
		return err
	}
	if changed, handled, err := s.recordCaseChange(ctx, c, evt); handled {
		if err == nil && changed {
			s.publish(Update{Case: c.ID, Kind: TimelineChanged})
		}
		return err
	}
	ce, ok, err := s.caseEventOf(ctx, c, evt)
	if err != nil || !ok {
		return err
	}
	added, err := s.opts.Store.AddCaseEvent(ctx, rowOf(c.ID, ce))
	if err != nil {
		return err
	}
	if added {
		s.publish(Update{Case: c.ID, Kind: TimelineChanged})
	}
	return nil
}

// caseEventOf turns a room event into a timeline entry, or says to skip it.
func (s *Service) caseEventOf(ctx context.Context, c *Case, evt *event.Event) (TimelineEntry, bool, error) {
	ce := TimelineEntry{EventID: evt.ID, TS: time.UnixMilli(evt.Timestamp)}
	switch evt.Type {
	case protocol.CaseEventType:
		status, _ := evt.Content.Raw["status"].(string)
		if status == "" {
			return ce, false, nil
		}
		last, err := s.opts.Store.LastCaseStatusEvent(ctx, c.ID)
		if err != nil || last == status {
			return ce, false, err
		}
		ce.Kind, ce.Origin, ce.Body = EntryStatus, OriginSystem, status
		return ce, true, nil
	case event.StateMember:
		if evt.GetStateKey() != evt.Sender.String() || s.config().IsOurUser(evt.Sender) {
			return ce, false, nil
		}
		if evt.Content.AsMember().Membership != event.MembershipJoin || prevMembership(evt) == event.MembershipJoin {
			return ce, false, nil
		}
		team := c.Department.String()
		if d := s.config().Department(c.Department); d != nil {
			team = d.Name
		}
		ce.Kind, ce.Origin, ce.Body = EntryStaffJoined, OriginSystem, team
		return ce, true, nil
	case event.EventMessage:
	default:
		return ce, false, nil
	}
	msg := evt.Content.AsMessage()
	switch {
	case evt.Sender == c.Ghost:
		ce.Origin = OriginCitizen
		ce.TxnID, _ = evt.Content.Raw[protocol.GuestTxnKey].(string)
	case evt.Sender == s.config().BotUserID():
		if msg.RelatesTo.GetReplyTo() != "" {
			return ce, false, nil // an answer to a staff command
		}
		kind, _ := evt.Content.Raw[protocol.NoticeKindKey].(string)
		switch {
		case kind == protocol.NoticeCaseworkerJoined:
			return ce, false, nil // the page says it with staff_joined, in its language
		case kind == protocol.NoticeTicketSummary:
			return ce, false, nil // for staff; the page shows the hand-over itself
		case slices.Contains(protocol.VideoNotices, kind):
			return ce, false, nil // for staff; the page shows the call's state itself
		case kind == protocol.NoticeCaseTransferred:
			// The page words it in the citizen's language only.
			team, _ := evt.Content.Raw[protocol.NoticeTeamKey].(string)
			ce.Kind, ce.Origin, ce.Body = EntryTransferred, OriginSystem, team
			return ce, true, nil
		case slices.Contains(protocol.CaseNotices, kind), slices.Contains(protocol.SubmissionNotices, kind):
			// A submission's status reads on the page in the citizen's
			// words too ("Ihr Antrag ist … eingegangen").
			ce.Kind, ce.Origin, ce.Body = EntrySystem, OriginSystem, kind
			return ce, true, nil
		}
		ce.Origin = OriginSystem
	case s.config().IsOurUser(evt.Sender):
		return ce, false, nil
	default:
		if bot.IsCommand(bot.CommandText(msg)) {
			return ce, false, nil
		}
		ce.Origin = OriginStaff
	}
	// Whatever a Matrix client sent: no NUL (PostgreSQL refuses it in
	// text, which would stall the timeline), no forged line breaks.
	ce.Body = plaintext.Text(msg.Body)
	switch msg.MsgType {
	case event.MsgText, event.MsgEmote:
		ce.Kind = EntryText
	case event.MsgNotice:
		ce.Kind = EntryNotice
	case event.MsgImage:
		ce.Kind = EntryImage
	case event.MsgFile, event.MsgVideo, event.MsgAudio:
		ce.Kind = EntryFile
	default:
		return ce, false, nil
	}
	if ce.Kind == EntryImage || ce.Kind == EntryFile {
		if msg.URL == "" {
			return ce, false, nil // encrypted or broken: nothing rathaus can pass on
		}
		ce.MediaURI = msg.URL
		ce.MediaName = plaintext.Line(msg.FileName, maxMediaName)
		if ce.MediaName == "" {
			ce.MediaName = plaintext.Line(msg.Body, maxMediaName)
		}
		if msg.Info != nil {
			ce.MediaType, ce.MediaSize = mediaType(msg.Info.MimeType), int64(msg.Info.Size)
		}
	}
	return ce, true, nil
}

// recordCaseChange passes a redaction, or a staff member's edit of their
// own message, on to the citizen's timeline. handled says the event was
// one of these (recorded or rightly ignored); changed that the timeline
// changed.
func (s *Service) recordCaseChange(ctx context.Context, c *Case, evt *event.Event) (changed, handled bool, err error) {
	change := store.CaseEvent{EventID: evt.ID, TS: time.UnixMilli(evt.Timestamp)}
	switch evt.Type {
	case event.EventRedaction:
		// The homeserver only accepts redactions their sender may make.
		target := evt.Redacts
		if target == "" { // room versions 11 and later carry it in the content
			target = evt.Content.AsRedaction().Redacts
		}
		if target == "" {
			return false, true, nil
		}
		changed, err = s.opts.Store.RedactCaseEvent(ctx, c.ID, target, change)
		if changed {
			s.opts.Log.Debug().Stringer("case_id", c.ID).Stringer("redacted_event_id", target).Msg("Removed a redacted message from the citizen's timeline")
		}
		return changed, true, err
	case event.EventMessage:
	default:
		return false, false, nil
	}
	msg := evt.Content.AsMessage()
	if msg.RelatesTo == nil || msg.RelatesTo.Type != event.RelReplace {
		return false, false, nil
	}
	// Only staff edit here (the ghost and the bot never do), and only
	// their own messages: the spec asks clients to check that an edit
	// comes from the original sender.
	if s.config().IsOurUser(evt.Sender) || msg.NewContent == nil {
		return false, true, nil
	}
	if msg.NewContent.MsgType != event.MsgText && msg.NewContent.MsgType != event.MsgNotice {
		return false, true, nil
	}
	if bot.IsCommand(msg.NewContent.Body) {
		return false, true, nil
	}
	original, err := s.opts.AS.BotIntent().GetEvent(ctx, evt.RoomID, msg.RelatesTo.EventID)
	if err != nil {
		if errors.Is(err, mautrix.MNotFound) || errors.Is(err, mautrix.MForbidden) {
			return false, true, nil
		}
		return false, true, fmt.Errorf("failed to fetch the edited event: %w", err)
	}
	if original.Sender != evt.Sender {
		return false, true, nil
	}
	changed, err = s.opts.Store.EditCaseEvent(ctx, c.ID, msg.RelatesTo.EventID, string(OriginStaff), plaintext.Text(msg.NewContent.Body), change)
	return changed, true, err
}

// mediaType is a file's declared type as a plain "type/subtype", or
// application/octet-stream if it is none.
func mediaType(declared string) string {
	t, _, err := mime.ParseMediaType(declared)
	if err != nil || !strings.Contains(t, "/") {
		return "application/octet-stream"
	}
	return t
}

// maxMediaName bounds a file's name in the timeline.
const maxMediaName = 255

func prevMembership(evt *event.Event) event.Membership {
	if evt.Unsigned.PrevContent == nil {
		return ""
	}
	_ = evt.Unsigned.PrevContent.ParseRaw(event.StateMember)
	if m, ok := evt.Unsigned.PrevContent.Parsed.(*event.MemberEventContent); ok {
		return m.Membership
	}
	return ""
}
