package guestchat

import (
	"context"
	"io"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/departments"
	"github.com/rathaus-de/rathaus/protocol"
)

// What the guest chat needs from the rest of rathaus, declared here and
// wired in internal/app: the departments (Directory), the citizen's case
// (Cases) and its own sessions (Sessions). It names the capabilities'
// types, never the database's rows.

// Directory tells the guest chat about the authority and its departments.
// *departments.Service implements it.
type Directory interface {
	// Department is called for every page and case view: a department of
	// the running config, open or not right now.
	Department(id protocol.DepartmentID) (departments.Department, bool)
	// Departments is called for the index page (/ and /chat/): every
	// department of the running config, in its order, as of now.
	Departments() []departments.Department
	// DepartmentForService is called for /chat?service=<LeiKa key>.
	DepartmentForService(leika string) (departments.Department, bool)
	// DepartmentForServiceIn is called for a verified hand-over: the
	// department for the LeiKa key and the municipality (ARS, "" if the
	// context names none).
	DepartmentForServiceIn(leika, ars string) (departments.Department, bool)
	// Authority is called for the page's title and privacy notice.
	Authority() departments.Authority
}

// Cases is the citizen's case: reading it, following it and acting in it
// as the citizen. *cases.Service implements it.
type Cases interface {
	// OpenForCitizen is called by POST cases: it opens the session's case
	// or returns the one it has (created false); safe to call again after
	// an error.
	OpenForCitizen(ctx context.Context, req cases.CitizenOpen) (c *cases.Case, created bool, err error)
	// Case is called by every request about a case; nil if there is none.
	Case(ctx context.Context, caseID protocol.CaseID) (*cases.Case, error)
	// QueuePosition is called for a queued case's view and stream.
	QueuePosition(ctx context.Context, caseID protocol.CaseID) (int, error)
	// Timeline and TimelineEntry are called by the stream, the transcript,
	// media downloads and read markers.
	Timeline(ctx context.Context, caseID protocol.CaseID, after int64, limit int) ([]cases.TimelineEntry, error)
	TimelineEntry(ctx context.Context, caseID protocol.CaseID, seq int64) (*cases.TimelineEntry, error)
	// TouchCitizen is called when the citizen says they are still there.
	TouchCitizen(ctx context.Context, caseID protocol.CaseID, at time.Time) error
	// SendCitizenMessage and SendCitizenFile send once per txnID;
	// cases.ErrCaseNotOpen if the case has ended.
	SendCitizenMessage(ctx context.Context, c *cases.Case, txnID, body string) error
	SendCitizenFile(ctx context.Context, c *cases.Case, txnID string, f cases.File) error
	// CloseByCitizen ends the case on the citizen's behalf.
	CloseByCitizen(ctx context.Context, c *cases.Case) error
	// CitizenTyping and CitizenRead pass the citizen's typing and read
	// marker to the room.
	CitizenTyping(ctx context.Context, c *cases.Case, typing bool) error
	CitizenRead(ctx context.Context, c *cases.Case, evt id.EventID) error
	// Media downloads a file of a case room.
	Media(ctx context.Context, uri id.ContentURIString) (io.ReadCloser, error)
	// Subscribe is called once by New; the guest chat follows every case's
	// updates until Close.
	Subscribe(fn func(cases.Update)) (unsubscribe func())
}

// Session is one browser session. The guest chat never stores the
// cookie's token, only its hash.
type Session struct {
	TokenHash string
	// CaseID is "" until the session opened a case.
	CaseID protocol.CaseID
	// LastSeen is the last time the session's expiry moved on.
	LastSeen  time.Time
	ExpiresAt time.Time
}

// Sessions keeps the guest chat's sessions.
type Sessions interface {
	// CreateSession is called by POST session.
	CreateSession(ctx context.Context, tokenHash string, expires time.Time) error
	// Session is called by every request with a cookie; nil if the session
	// is unknown or expired.
	Session(ctx context.Context, tokenHash string) (*Session, error)
	// TouchSession moves a session's expiry on, at most once a minute.
	TouchSession(ctx context.Context, tokenHash string, expires time.Time) error
	// DeleteSession ends a session ("Sitzung beenden", a new session).
	DeleteSession(ctx context.Context, tokenHash string) error
}

// HandOvers verifies the signed context with which an OZG online service
// hands a citizen over (/hilfe#ctx=…). internal/app wires the ozg package
// behind it; nil turns the hand-over page off.
type HandOvers interface {
	// VerifyHandOver is called by POST handover and by POST cases with a
	// context. binding is the guest session's token hash: the context is
	// bound to it on first use, so the same session may show it again (a
	// reload) and no other may. origin is the origin of the page that
	// opened the hand-over, as the browser reported it, or "". It returns
	// the ticket of a valid context; a refusal wraps one of
	// ErrHandOverInvalid, ErrHandOverExpired, ErrHandOverReplayed or
	// ErrHandOverUnknownService, anything else is a fault.
	VerifyHandOver(ctx context.Context, token, binding, origin string) (*protocol.TicketContent, error)
}
