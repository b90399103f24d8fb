package guestchat

import (
	"context"
	"errors"
	"io"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/store"
)

// Backend is what the guest chat needs from the rest of rathaus: the
// departments, and acting in the case room as the citizen's ghost. The
// bridge implements it; this package never imports the bridge.
type Backend interface {
	// Department returns a department by id with its current
	// availability.
	Department(id string) (Department, bool)
	// DepartmentForService returns the department handling a LeiKa service.
	DepartmentForService(key string) (string, bool)
	// Authority describes the authority.
	Authority() Authority
	// OpenCase opens the session's case, or returns the case the session
	// already has (created false). It is safe to call again with the same
	// request after an error: nothing is done twice.
	OpenCase(ctx context.Context, req OpenRequest) (c *store.Case, created bool, err error)
	// SendMessage sends the citizen's text into the case room once per
	// txnID.
	SendMessage(ctx context.Context, c *store.Case, txnID, body string) error
	// SendAttachment uploads a file as the ghost and sends it once per
	// txnID.
	SendAttachment(ctx context.Context, c *store.Case, txnID string, a Attachment) error
	// CloseCase ends the case on the citizen's behalf.
	CloseCase(ctx context.Context, c *store.Case) error
	// Typing tells the room that the citizen is (not) typing.
	Typing(ctx context.Context, c *store.Case, typing bool) error
	// MarkRead sends the ghost's read receipt for an event.
	MarkRead(ctx context.Context, c *store.Case, evt id.EventID) error
	// Media downloads a file of the case room from the homeserver.
	Media(ctx context.Context, uri id.ContentURIString) (io.ReadCloser, error)
}

// Store is the part of the database the guest chat uses. *store.Store
// implements it.
type Store interface {
	CreateGuestSession(ctx context.Context, tokenHash string, expires time.Time) error
	GetGuestSession(ctx context.Context, tokenHash string) (*store.GuestSession, error)
	TouchGuestSession(ctx context.Context, tokenHash string, expires time.Time) error
	DeleteGuestSession(ctx context.Context, tokenHash string) error
	GetCase(ctx context.Context, caseID string) (*store.Case, error)
	TouchCitizen(ctx context.Context, caseID string, at time.Time) error
	QueuePosition(ctx context.Context, caseID string) (int, error)
	CaseEventsAfter(ctx context.Context, caseID string, after int64, limit int) ([]store.CaseEvent, error)
	GetCaseEvent(ctx context.Context, caseID string, seq int64) (*store.CaseEvent, error)
	MarkSpent(ctx context.Context, id string, expiresAt time.Time) (bool, error)
}

var _ Store = (*store.Store)(nil)

// Department is what citizens see of a department.
type Department struct {
	ID, Name, Description string
	// Open is whether the department is within its office hours now.
	Open bool
	// NextOpening is when it opens next if closed; zero if open or unknown.
	NextOpening time.Time
	// OfficeHours summarises the weekly hours in words.
	OfficeHours string
}

// Authority is what citizens see of the authority.
type Authority struct {
	Name, PrivacyURL, ContactURL string
}

// OpenRequest is a citizen's request to open a case.
type OpenRequest struct {
	// SessionHash binds the case to the session: one case per session.
	SessionHash string
	Department  string
	// Service is the LeiKa key the citizen came from, or "".
	Service string
	// Name is the citizen's chosen name, or "".
	Name string
	// Question becomes the first message of the case room.
	Question string
	// TxnID is the client's id for the question.
	TxnID string
}

// Attachment is a file a citizen sends.
type Attachment struct {
	Name, Type string
	Data       []byte
}

// ErrCaseNotOpen is returned by the Backend when the case can no longer be
// written to.
var ErrCaseNotOpen = errors.New("case is not open")

// ErrUnknownDepartment is returned by OpenCase for a department that does
// not exist (any more).
var ErrUnknownDepartment = errors.New("unknown department")
