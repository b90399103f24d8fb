package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/protocol"
)

// GuestSession is one browser session of the guest chat. The store never
// sees the cookie's token, only its hash.
type GuestSession struct {
	TokenHash string
	CaseID    protocol.CaseID // "" until the session opened a case
	CreatedAt time.Time
	LastSeen  time.Time
	ExpiresAt time.Time
}

const (
	insertSessionQuery = `
		INSERT INTO guest_session (token_hash, created_at, last_seen_at, expires_at) VALUES ($1, $2, $2, $3)`
	getSessionQuery = `
		SELECT token_hash, COALESCE(case_id, ''), created_at, last_seen_at, expires_at
		FROM guest_session WHERE token_hash = $1 AND expires_at > $2`
	touchSessionQuery  = `UPDATE guest_session SET last_seen_at = $2, expires_at = $3 WHERE token_hash = $1`
	bindSessionQuery   = `UPDATE guest_session SET case_id = $2 WHERE token_hash = $1 AND case_id IS NULL AND expires_at > $3`
	deleteSessionQuery = `DELETE FROM guest_session WHERE token_hash = $1`
	pruneSessionsQuery = `DELETE FROM guest_session WHERE expires_at <= $1`
	touchCitizenQuery  = `UPDATE citizen_case SET last_citizen_at = $2 WHERE id = $1`
	queuePosQuery      = `
		SELECT COUNT(*) FROM citizen_case q, citizen_case c
		WHERE c.id = $1 AND q.department = c.department AND q.status = 'queued'
		AND (q.created_at < c.created_at OR (q.created_at = c.created_at AND q.id <= c.id))`
)

// CreateGuestSession stores a new session.
func (s *Store) CreateGuestSession(ctx context.Context, tokenHash string, expires time.Time) error {
	if _, err := s.DB.Exec(ctx, insertSessionQuery, tokenHash, time.Now().UnixMilli(), expires.UnixMilli()); err != nil {
		return fmt.Errorf("failed to store guest session: %w", err)
	}
	return nil
}

// GetGuestSession returns the unexpired session with this token hash, or
// nil.
func (s *Store) GetGuestSession(ctx context.Context, tokenHash string) (*GuestSession, error) {
	var gs GuestSession
	var created, seen, expires int64
	err := s.DB.QueryRow(ctx, getSessionQuery, tokenHash, time.Now().UnixMilli()).
		Scan(&gs.TokenHash, &gs.CaseID, &created, &seen, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("failed to query guest session: %w", err)
	}
	gs.CreatedAt, gs.LastSeen, gs.ExpiresAt = time.UnixMilli(created), time.UnixMilli(seen), time.UnixMilli(expires)
	return &gs, nil
}

// TouchGuestSession records a request of the session and moves its expiry.
func (s *Store) TouchGuestSession(ctx context.Context, tokenHash string, expires time.Time) error {
	if _, err := s.DB.Exec(ctx, touchSessionQuery, tokenHash, time.Now().UnixMilli(), expires.UnixMilli()); err != nil {
		return fmt.Errorf("failed to touch guest session: %w", err)
	}
	return nil
}

// DeleteGuestSession forgets a session.
func (s *Store) DeleteGuestSession(ctx context.Context, tokenHash string) error {
	if _, err := s.DB.Exec(ctx, deleteSessionQuery, tokenHash); err != nil {
		return fmt.Errorf("failed to delete guest session: %w", err)
	}
	return nil
}

// PruneGuestSessions deletes sessions that expired before now.
func (s *Store) PruneGuestSessions(ctx context.Context, now time.Time) error {
	if _, err := s.DB.Exec(ctx, pruneSessionsQuery, now.UnixMilli()); err != nil {
		return fmt.Errorf("failed to prune guest sessions: %w", err)
	}
	return nil
}

// TouchCitizen records that the citizen of a case was active.
func (s *Store) TouchCitizen(ctx context.Context, caseID protocol.CaseID, at time.Time) error {
	if _, err := s.DB.Exec(ctx, touchCitizenQuery, caseID, at.UnixMilli()); err != nil {
		return fmt.Errorf("failed to record citizen activity: %w", err)
	}
	return nil
}

// QueuePosition is the case's place among its department's queued cases
// (1 = next), or 0 if it is not queued.
func (s *Store) QueuePosition(ctx context.Context, caseID protocol.CaseID) (int, error) {
	var n int
	if err := s.DB.QueryRow(ctx, queuePosQuery, caseID).Scan(&n); err != nil {
		return 0, fmt.Errorf("failed to compute queue position: %w", err)
	}
	return n, nil
}

// CaseEvent is one entry of the citizen-visible timeline of a case.
type CaseEvent struct {
	// Seq is the entry's place in its case's timeline: 1 for the first,
	// without gaps (case_event.case_seq). The citizen sees it, so it never
	// counts across cases; AddCaseEvent assigns it.
	Seq     int64
	CaseID  protocol.CaseID
	EventID id.EventID
	// Kind is text, notice, image, file, status or staff_joined; redacted
	// for a message staff removed; edit or redaction for a change row,
	// which points at the changed row with TargetSeq.
	Kind string
	// Origin is citizen, staff or system.
	Origin string
	// TxnID is the citizen's client transaction id of their messages.
	TxnID string
	// Body is the message text; for status events the new status; for
	// staff_joined the team's name.
	Body      string
	MediaURI  id.ContentURIString
	MediaType string
	MediaName string
	MediaSize int64
	TS        time.Time
	// TargetSeq is the Seq of the row a change row (edit, redaction)
	// changed, in the same case.
	TargetSeq int64
	// EditedAt is when staff last edited the message; zero if never.
	EditedAt time.Time
}

const (
	caseEventColumns = `case_seq, case_id, event_id, kind, origin, COALESCE(txn_id, ''), COALESCE(body, ''),
		COALESCE(media_uri, ''), COALESCE(media_type, ''), COALESCE(media_name, ''), COALESCE(media_size, 0), ts,
		COALESCE(target_seq, 0), COALESCE(edited_at, 0)`
	insertCaseEventQuery = `
		INSERT INTO case_event (case_id, event_id, kind, origin, txn_id, body, media_uri, media_type, media_name, media_size, ts, target_seq,
			case_seq)
		VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6, NULLIF($7, ''), NULLIF($8, ''), NULLIF($9, ''), $10, $11, NULLIF($12, 0), $13)
		ON CONFLICT (event_id) DO NOTHING`
	// The UPDATE takes the case row's lock until the transaction ends, so
	// two rows of one case never get the same case_seq.
	nextCaseSeqQuery = `UPDATE citizen_case SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq`
	undoCaseSeqQuery = `UPDATE citizen_case SET event_seq = event_seq - 1 WHERE id = $1`
	// lockCaseQuery takes the case row's lock without changing it.
	lockCaseQuery = `UPDATE citizen_case SET event_seq = event_seq WHERE id = $1`
	// Only messages change; a redacted one stays redacted.
	redactCaseEventQuery = `
		UPDATE case_event SET kind = 'redacted', body = NULL, media_uri = NULL, media_type = NULL,
			media_name = NULL, media_size = NULL, edited_at = NULL
		WHERE case_id = $1 AND event_id = $2 AND kind IN ('text', 'notice', 'image', 'file')
		RETURNING case_seq`
	editCaseEventQuery = `
		UPDATE case_event SET body = $3, edited_at = $4
		WHERE case_id = $1 AND event_id = $2 AND kind IN ('text', 'notice') AND origin = $5
		RETURNING case_seq`
	caseEventsAfterQuery = `SELECT ` + caseEventColumns + ` FROM case_event WHERE case_id = $1 AND case_seq > $2 ORDER BY case_seq LIMIT $3`
	caseEventQuery       = `SELECT ` + caseEventColumns + ` FROM case_event WHERE case_id = $1 AND case_seq = $2`
	lastStatusQuery      = `SELECT COALESCE(body, '') FROM case_event WHERE case_id = $1 AND kind = 'status' ORDER BY seq DESC LIMIT 1`
)

// AddCaseEvent appends an event to the case's timeline, as the case's next
// Seq (e.Seq is ignored); an event id seen before is ignored (a redelivered
// transaction). It reports whether a row was added.
func (s *Store) AddCaseEvent(ctx context.Context, e CaseEvent) (added bool, err error) {
	err = s.DB.DoTxn(ctx, nil, func(ctx context.Context) error {
		var seq int64
		if err := s.DB.QueryRow(ctx, nextCaseSeqQuery, e.CaseID).Scan(&seq); err != nil {
			return fmt.Errorf("failed to take the case's next seq: %w", err)
		}
		r, err := s.DB.Exec(ctx, insertCaseEventQuery, e.CaseID, e.EventID, e.Kind, e.Origin, e.TxnID, e.Body,
			string(e.MediaURI), e.MediaType, e.MediaName, e.MediaSize, e.TS.UnixMilli(), e.TargetSeq, seq)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n > 0 {
			added = true
			return nil
		}
		// A redelivery: give the seq back (the case row is still locked),
		// so the case's seqs stay without gaps.
		_, err = s.DB.Exec(ctx, undoCaseSeqQuery, e.CaseID)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("failed to store case event: %w", err)
	}
	return added, nil
}

// RedactCaseEvent removes the text and file of the message with event id
// target from the case's timeline (kind becomes redacted) and appends the
// change row (kind redaction, event id and time of the redaction event),
// in one transaction. It reports whether anything changed: not for an
// event outside the timeline, an already redacted one, or a redelivered
// redaction.
func (s *Store) RedactCaseEvent(ctx context.Context, caseID protocol.CaseID, target id.EventID, change CaseEvent) (bool, error) {
	change.Kind, change.Origin = "redaction", "system"
	return s.changeCaseEvent(ctx, caseID, change, redactCaseEventQuery, caseID, target)
}

// EditCaseEvent replaces the text of the message with event id target,
// if it is a text or notice from origin, and appends the change row (kind
// edit), in one transaction. It reports whether anything changed.
func (s *Store) EditCaseEvent(ctx context.Context, caseID protocol.CaseID, target id.EventID, origin, body string, change CaseEvent) (bool, error) {
	change.Kind, change.Origin = "edit", origin
	return s.changeCaseEvent(ctx, caseID, change, editCaseEventQuery, caseID, target, body, change.TS.UnixMilli(), origin)
}

func (s *Store) changeCaseEvent(ctx context.Context, caseID protocol.CaseID, change CaseEvent, query string, args ...any) (changed bool, err error) {
	err = s.DB.DoTxn(ctx, nil, func(ctx context.Context) error {
		// The case row first, then its timeline rows, as AddCaseEvent and
		// PurgeCase lock them: the other order could deadlock with them.
		if _, err := s.DB.Exec(ctx, lockCaseQuery, caseID); err != nil {
			return err
		}
		var seen int
		if err := s.DB.QueryRow(ctx, caseEventSeqQuery, caseID, change.EventID).Scan(&seen); err == nil {
			return nil // a redelivered change
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var seq int64
		if err := s.DB.QueryRow(ctx, query, args...).Scan(&seq); errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		change.CaseID, change.TargetSeq = caseID, seq
		var err error
		changed, err = s.AddCaseEvent(ctx, change)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("failed to change case event: %w", err)
	}
	return changed, nil
}

// CaseEventsAfter returns up to limit events of the case with seq > after,
// oldest first.
func (s *Store) CaseEventsAfter(ctx context.Context, caseID protocol.CaseID, after int64, limit int) ([]CaseEvent, error) {
	rows, err := s.DB.Query(ctx, caseEventsAfterQuery, caseID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("failed to query case events: %w", err)
	}
	defer rows.Close()
	var out []CaseEvent
	for rows.Next() {
		e, err := scanCaseEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	return out, rows.Err()
}

// GetCaseEvent returns one event of the case, or nil.
func (s *Store) GetCaseEvent(ctx context.Context, caseID protocol.CaseID, seq int64) (*CaseEvent, error) {
	e, err := scanCaseEvent(s.DB.QueryRow(ctx, caseEventQuery, caseID, seq))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return e, err
}

// LastCaseStatusEvent returns the status of the case's latest status
// event, or "".
func (s *Store) LastCaseStatusEvent(ctx context.Context, caseID protocol.CaseID) (string, error) {
	var status string
	err := s.DB.QueryRow(ctx, lastStatusQuery, caseID).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("failed to query case status event: %w", err)
	}
	return status, nil
}

type scannable interface{ Scan(dest ...any) error }

func scanCaseEvent(row scannable) (*CaseEvent, error) {
	var e CaseEvent
	var ts, edited int64
	var uri string
	err := row.Scan(&e.Seq, &e.CaseID, &e.EventID, &e.Kind, &e.Origin, &e.TxnID, &e.Body, &uri, &e.MediaType, &e.MediaName, &e.MediaSize, &ts,
		&e.TargetSeq, &edited)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("failed to scan case event: %w", err)
	}
	e.MediaURI, e.TS = id.ContentURIString(uri), time.UnixMilli(ts)
	if edited != 0 {
		e.EditedAt = time.UnixMilli(edited)
	}
	return &e, nil
}

const caseEventSeqQuery = `SELECT case_seq FROM case_event WHERE case_id = $1 AND event_id = $2`

// CaseEventSeq returns the timeline position (CaseEvent.Seq) of a room
// event, or 0 if the event is not in the case's timeline.
func (s *Store) CaseEventSeq(ctx context.Context, caseID protocol.CaseID, evt id.EventID) (int64, error) {
	var seq int64
	err := s.DB.QueryRow(ctx, caseEventSeqQuery, caseID, evt).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("failed to look up case event: %w", err)
	}
	return seq, nil
}
