package cases

import (
	"context"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// EntryKind is what a timeline entry is.
type EntryKind string

const (
	EntryText   EntryKind = "text"
	EntryNotice EntryKind = "notice"
	EntryImage  EntryKind = "image"
	EntryFile   EntryKind = "file"
	// EntryStatus: the case's status changed; Body is the new status.
	EntryStatus EntryKind = "status"
	// EntryStaffJoined: a caseworker joined; Body is the team's name.
	EntryStaffJoined EntryKind = "staff_joined"
	// EntrySystem: a notice of the bot about the case's course that the
	// guest chat words itself; Body is its kind (protocol.CaseNotices,
	// protocol.SubmissionNotices).
	EntrySystem EntryKind = "system"
	// EntryTransferred: the case went to another department; Body is
	// that department's name.
	EntryTransferred EntryKind = "transferred"
	// EntryRedacted: a message staff removed (text and file are gone).
	EntryRedacted EntryKind = "redacted"
	// EntryEdit and EntryRedaction are change rows: they point at the
	// changed entry with TargetSeq.
	EntryEdit      EntryKind = "edit"
	EntryRedaction EntryKind = "redaction"
)

// Valid reports whether k is a known kind.
func (k EntryKind) Valid() bool {
	switch k {
	case EntryText, EntryNotice, EntryImage, EntryFile, EntryStatus, EntryStaffJoined, EntrySystem, EntryTransferred,
		EntryRedacted, EntryEdit, EntryRedaction:
		return true
	}
	return false
}

// Origin is who a timeline entry comes from, as the citizen may know it.
type Origin string

const (
	OriginCitizen Origin = "citizen"
	OriginStaff   Origin = "staff"
	// OriginSystem: the bot, or rathaus itself (a status change).
	OriginSystem Origin = "system"
)

// Valid reports whether o is a known origin.
func (o Origin) Valid() bool { return o == OriginCitizen || o == OriginStaff || o == OriginSystem }

// TimelineEntry is one entry of the timeline a citizen may see of their
// case, in room order; Seq numbers it within the case, from 1 without gaps
// (store.CaseEvent.Seq), so it tells the citizen nothing of other cases.
type TimelineEntry struct {
	Seq     int64
	EventID id.EventID
	Kind    EntryKind
	Origin  Origin
	// TxnID is the channel's transaction id of the citizen's messages.
	TxnID string
	// Body is the message text; for EntryStatus the new status; for
	// EntryStaffJoined the team's name.
	Body      string
	MediaURI  id.ContentURIString
	MediaType string
	MediaName string
	MediaSize int64
	TS        time.Time
	// TargetSeq is the entry a change row (edit, redaction) changed.
	TargetSeq int64
	// EditedAt is when staff last edited the message; zero if never.
	EditedAt time.Time
}

// entryOf is the timeline entry of a database row.
func entryOf(row store.CaseEvent) TimelineEntry {
	return TimelineEntry{Seq: row.Seq, EventID: row.EventID, Kind: EntryKind(row.Kind), Origin: Origin(row.Origin),
		TxnID: row.TxnID, Body: row.Body, MediaURI: row.MediaURI, MediaType: row.MediaType, MediaName: row.MediaName,
		MediaSize: row.MediaSize, TS: row.TS, TargetSeq: row.TargetSeq, EditedAt: row.EditedAt}
}

// rowOf is the database row of a case's timeline entry.
func rowOf(caseID protocol.CaseID, e TimelineEntry) store.CaseEvent {
	return store.CaseEvent{Seq: e.Seq, CaseID: caseID, EventID: e.EventID, Kind: string(e.Kind), Origin: string(e.Origin),
		TxnID: e.TxnID, Body: e.Body, MediaURI: e.MediaURI, MediaType: e.MediaType, MediaName: e.MediaName,
		MediaSize: e.MediaSize, TS: e.TS, TargetSeq: e.TargetSeq, EditedAt: e.EditedAt}
}

// Timeline returns up to limit entries of a case's timeline after seq
// after, oldest first.
func (s *Service) Timeline(ctx context.Context, caseID protocol.CaseID, after int64, limit int) ([]TimelineEntry, error) {
	rows, err := s.opts.Store.CaseEventsAfter(ctx, caseID, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]TimelineEntry, len(rows))
	for i, row := range rows {
		out[i] = entryOf(row)
	}
	return out, nil
}

// TimelineEntry returns one entry of a case's timeline, or nil.
func (s *Service) TimelineEntry(ctx context.Context, caseID protocol.CaseID, seq int64) (*TimelineEntry, error) {
	row, err := s.opts.Store.GetCaseEvent(ctx, caseID, seq)
	if err != nil || row == nil {
		return nil, err
	}
	e := entryOf(*row)
	return &e, nil
}
