// The guest API's browser-facing contract, mirrored in docs/guest-chat.md:
// its routes under APIPrefix and the JSON of its requests, answers and
// stream events. Change this file and the document together.

package guestchat

import (
	"net/http"
	"regexp"
	"time"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/protocol"
)

// routes registers the API and the page. The API's paths, methods and
// bodies are described in docs/guest-chat.md, "HTTP API".
func (s *Server) routes() {
	m := http.NewServeMux()
	a := APIPrefix
	m.HandleFunc("GET "+a+"session", s.getSession)
	m.HandleFunc("POST "+a+"session", s.postSession)
	m.HandleFunc("POST "+a+"session/end", s.postSessionEnd)
	m.HandleFunc("GET "+a+"info", s.info)
	m.HandleFunc("POST "+a+"challenge", s.challenge)
	m.HandleFunc("POST "+a+"handover", s.handOver)
	m.HandleFunc("POST "+a+"cases", s.openCase)
	m.HandleFunc("GET "+a+"cases/{id}", s.withCase(false, s.getCase))
	m.HandleFunc("GET "+a+"cases/{id}/events", s.withCase(false, s.stream))
	m.HandleFunc("POST "+a+"cases/{id}/messages", s.withCase(true, s.sendMessage))
	m.HandleFunc("POST "+a+"cases/{id}/attachments", s.withCase(true, s.sendAttachment))
	m.HandleFunc("GET "+a+"cases/{id}/media/{seq}", s.withCase(false, s.media))
	m.HandleFunc("GET "+a+"cases/{id}/transcript", s.withCase(false, s.transcript))
	m.HandleFunc("POST "+a+"cases/{id}/typing", s.withCase(true, s.typing))
	m.HandleFunc("POST "+a+"cases/{id}/read", s.withCase(true, s.read))
	m.HandleFunc("POST "+a+"cases/{id}/alive", s.withCase(true, s.alive))
	m.HandleFunc("POST "+a+"cases/{id}/close", s.withCase(true, s.closeCase))
	m.HandleFunc("POST "+a+"cases/{id}/video/knock", s.withCase(true, s.videoKnock))
	m.HandleFunc("GET "+a+"cases/{id}/video", s.withCase(false, s.videoView))
	m.HandleFunc("DELETE "+a+"cases/{id}/video", s.withCase(true, s.videoLeave))
	// No catch-all under a: dispatch answers what no route takes, with
	// 405 and Allow for a wrong method.
	s.pageRoutes(m)
	s.mux = m
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r.WithContext(s.log.WithContext(r.Context())))
	})
}

// maxJSONBody bounds JSON request bodies; the longest is a message.
const maxJSONBody = 256 << 10

// txnIDRegex is the form of a client's txn_id.
var txnIDRegex = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// The JSON below is the contract. Where an answer used to be written from
// a map, its fields are declared in the map's (alphabetical) key order, so
// the bytes on the wire did not change when the structs replaced the maps;
// key order carries no meaning.

// sessionJSON answers GET and POST session.
type sessionJSON struct {
	CSRFToken string    `json:"csrf_token"`
	Case      *caseJSON `json:"case"`
}

// caseJSON is a case as the page sees it.
type caseJSON struct {
	ID            protocol.CaseID     `json:"id"`
	Reference     string              `json:"reference"`
	Department    departmentRef       `json:"department"`
	Status        protocol.CaseStatus `json:"status"`
	Open          bool                `json:"open"`
	QueuePosition int                 `json:"queue_position,omitempty"`
	CreatedAt     time.Time           `json:"created_at"`
	LastCitizenAt *time.Time          `json:"last_citizen_at,omitempty"`
	AbandonAt     *time.Time          `json:"abandon_at,omitempty"`
}

// departmentRef names a case's department.
type departmentRef struct {
	ID   protocol.DepartmentID `json:"id"`
	Name string                `json:"name"`
}

// infoJSON answers GET info: what the entry form shows.
type infoJSON struct {
	Authority struct {
		Name       string `json:"name"`
		PrivacyURL string `json:"privacy_url,omitempty"`
		ContactURL string `json:"contact_url,omitempty"`
	} `json:"authority"`
	Department struct {
		ID          protocol.DepartmentID `json:"id"`
		Name        string                `json:"name"`
		Description string                `json:"description,omitempty"`
		Open        bool                  `json:"open"`
		NextOpening *time.Time            `json:"next_opening,omitempty"`
		OfficeHours string                `json:"office_hours,omitempty"`
	} `json:"department"`
	Limits struct {
		MaxMessageLength   int      `json:"max_message_length"`
		MaxAttachmentBytes int64    `json:"max_attachment_bytes"`
		AttachmentTypes    []string `json:"attachment_types"`
	} `json:"limits"`
	Idle struct {
		AbandonAfterSeconds int64 `json:"abandon_after_seconds"`
		WarnBeforeSeconds   int64 `json:"warn_before_seconds"`
	} `json:"idle"`
	// Video says whether the page offers "Video starten".
	Video bool `json:"video"`
}

// sessionRequest is the body of POST session.
type sessionRequest struct {
	// New replaces a session whose case is over by a fresh one.
	New bool `json:"new"`
}

// emptyRequest is the body of POST alive and POST close: {}.
type emptyRequest struct{}

// challengeJSON answers POST challenge.
type challengeJSON struct {
	Difficulty int       `json:"difficulty"`
	ExpiresAt  time.Time `json:"expires_at"`
	Token      string    `json:"token"`
}

// openCaseBody is the body of POST cases.
type openCaseBody struct {
	Department protocol.DepartmentID `json:"department"`
	Service    string                `json:"service"`
	Name       string                `json:"name"`
	Question   string                `json:"question"`
	TxnID      string                `json:"txn_id"`
	Pow        struct {
		Token string `json:"token"`
		Nonce string `json:"nonce"`
	} `json:"pow"`
	// HandOver is set by the hand-over page (/hilfe): with a context the
	// case opens with its ticket in the department the context routes to;
	// without one ({}), the case is marked unverified for staff.
	HandOver *handOverRequest `json:"handover"`
}

// handOverRequest is the body of POST handover, and the handover of POST
// cases.
type handOverRequest struct {
	// Context is the compact JWS from the page's #ctx= fragment, or "".
	Context string `json:"context"`
	// Origin is the origin of the page that opened the hand-over
	// (document.referrer), or "".
	Origin string `json:"origin"`
}

// handOverJSON answers POST handover: what the page shows of a verified
// hand-over, and where the case will open.
type handOverJSON struct {
	Service struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"service"`
	Step       string        `json:"step,omitempty"`
	Lang       string        `json:"lang"`
	Department departmentRef `json:"department"`
}

// messageRequest is the body of POST cases/{id}/messages.
type messageRequest struct {
	TxnID string `json:"txn_id"`
	Body  string `json:"body"`
}

// txnJSON answers a message or a file the server has taken.
type txnJSON struct {
	TxnID string `json:"txn_id"`
}

// typingRequest is the body of POST cases/{id}/typing.
type typingRequest struct {
	Typing bool `json:"typing"`
}

// readRequest is the body of POST cases/{id}/read.
type readRequest struct {
	Seq int64 `json:"seq"`
}

// Events of the stream (GET cases/{id}/events): the SSE event name is in
// each type's comment.

// messageJSON is a "message" event, and the message inside an "update".
type messageJSON struct {
	Seq        int64           `json:"seq"`
	From       cases.Origin    `json:"from"`
	Kind       cases.EntryKind `json:"kind"`
	Body       string          `json:"body"`
	TxnID      string          `json:"txn_id,omitempty"`
	Attachment *attachmentJSON `json:"attachment,omitempty"`
	TS         time.Time       `json:"ts"`
	// EditedAt is set once staff edited the message.
	EditedAt *time.Time `json:"edited_at,omitempty"`
}

// updateJSON, an "update" event, tells an open page that an earlier message changed: it
// carries the message as it is now (edited, or kind "redacted" with no
// body and no file).
type updateJSON struct {
	Seq     int64       `json:"seq"`
	Message messageJSON `json:"message"`
}

// attachmentJSON is the file of an image or file message.
type attachmentJSON struct {
	URL  string `json:"url"`
	Name string `json:"name"`
	Type string `json:"type"`
	Size int64  `json:"size,omitempty"`
}

// statusEventJSON is a "status" event: the case's status changed.
type statusEventJSON struct {
	Open   bool                `json:"open"`
	Seq    int64               `json:"seq"`
	Status protocol.CaseStatus `json:"status"`
	TS     time.Time           `json:"ts"`
}

// staffJoinedEventJSON is a "staff_joined" event: staff (named only as the
// team) joined the case.
type staffJoinedEventJSON struct {
	Seq  int64     `json:"seq"`
	Team string    `json:"team"`
	TS   time.Time `json:"ts"`
}

// noticeEventJSON is a "notice" event: a step in the case's course
// (protocol.CaseNotices) that the page words in the citizen's language.
// Team names the department of case_transferred.
type noticeEventJSON struct {
	Seq    int64     `json:"seq"`
	Notice string    `json:"notice"`
	Team   string    `json:"team,omitempty"`
	TS     time.Time `json:"ts"`
}

// typingEventJSON is a "typing" event (not stored): staff are typing.
type typingEventJSON struct {
	Typing bool `json:"typing"`
}

// readEventJSON is a "read" event (not stored): staff have read up to Seq.
type readEventJSON struct {
	Seq int64 `json:"seq"`
}

// queueEventJSON is a "queue" event (not stored): the place in the queue.
type queueEventJSON struct {
	Position int `json:"position"`
}

// videoEventJSON is a "video" event (not stored): the citizen's state in
// the case's video call changed (admitted, denied, expired, ended); the
// page fetches it (GET cases/{id}/video). It carries nothing itself, so
// the grant to join travels only in that answer.
type videoEventJSON struct{}

// idleEventJSON is an "idle" event (not stored): when the case will be
// abandoned without activity.
type idleEventJSON struct {
	AbandonAt time.Time `json:"abandon_at"`
}
