package tickets_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/internal/testpg"
	"github.com/rathaus-de/rathaus/ozg/fitconnect"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
	"github.com/rathaus-de/rathaus/tickets"
)

func TestMain(m *testing.M) { os.Exit(testpg.Main(m)) }

// FIT-Connect's documented example (details/callbacks.mdx of
// git.fitko.de/fit-connect/docs): its secret, and a new-submissions
// callback sent at 1672527599 with its HMAC.
const (
	docSecret     = "insecure_unsafe_qHScgrg_kP-R31jHUwp3GkVkGJolvBchz65b74Lzue0"
	docTimestamp  = "1672527599"
	docSubmission = "f39ab143-d91a-474a-b69f-b00f1a1873c2"
	docBody       = `{"type":"https://schema.fitko.de/fit-connect/submission-api/callbacks/new-submissions","submissionIds":["f39ab143-d91a-474a-b69f-b00f1a1873c2"],"submissions":[{"destinationId":"d12caea8-f372-4eb1-b102-b0a228253a11","submissionId":"f39ab143-d91a-474a-b69f-b00f1a1873c2","caseId":"9eec7d3e-dc66-4f82-9f52-1520bf96a32e"}]}`
	docHMAC       = "2056b372b5bcec06d8f11ab79b84b42d6cbe1c8e1178cdfa36e4385dcf717758aaa7599f417d9ec3e079087884f4fd59680bf713621383e2d4414ef74fb10df3"
	// docBodyOld is the documentation's older example: only the
	// deprecated submissionIds.
	docBodyOld = `{"type":"https://schema.fitko.de/fit-connect/submission-api/callbacks/new-submissions","submissionIds":["f39ab143-d91a-474a-b69f-b00f1a1873c2"]}`
	docHMACOld = "798cd0edb70c08e5b32aa8a18cbbc8ff6b3078c51af6d011ff4e32e470c746234fc4314821fe5185264b029e962bd37de33f3b9fc5f1a93c40ce6672845e90df"
)

var docSentAt = time.Unix(1672527599, 0)

// Secrets of the tests' services (the documented one is refused by
// config.Validate, which these tests do not run).
var (
	secretBau      = strings.Repeat("Bau4", 10)
	secretBauOld   = strings.Repeat("Alt7", 10)
	secretMelde    = strings.Repeat("Mel9", 10)
	otherSubmitted = "0b9ed7a4-8c27-4bd4-9f3c-2e0e8d8f8b1a"
)

// testConfig has three services: bauantrag (the documented secret or
// secretBau, and secretBauOld being rotated out), meldung (secretMelde),
// and ohne (callbacks off).
func testConfig(current string) *config.Config {
	cfg := config.Default()
	cfg.Homeserver.ServerName = "hs.test"
	cfg.OZG.Services = []config.OZGServiceConfig{
		{ID: "bauantrag", Name: "Bauantrag online",
			FITConnect: config.FITConnectConfig{CallbackSecret: current, PreviousCallbackSecret: secretBauOld}},
		{ID: "meldung", Name: "Meldung online", FITConnect: config.FITConnectConfig{CallbackSecret: secretMelde}},
		{ID: "ohne", Name: "Ohne Callbacks"},
	}
	return cfg
}

// rooms records what the capability does in Matrix. It keeps the
// Sender's promise (one event per transaction id), and fails while
// failing is set. The homeserver's side is TestSubmissionStatusReachesRoomAndPage
// in widgets/guestchat.
type rooms struct {
	mu      sync.Mutex
	failing bool
	tickets map[id.RoomID]protocol.TicketContent
	sent    map[string]bool
	notices []*event.Content
	sets    int
}

func (r *rooms) SendNotice(_ context.Context, _ id.RoomID, content *event.Content, txnID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failing {
		return errors.New("homeserver unreachable")
	}
	if !r.sent[txnID] {
		r.sent[txnID] = true
		r.notices = append(r.notices, content)
	}
	return nil
}

func (r *rooms) Ticket(_ context.Context, room id.RoomID, ticket protocol.TicketID) (*protocol.TicketContent, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.tickets[room]
	if !ok || t.ID != ticket {
		return nil, errors.New("M_NOT_FOUND")
	}
	return &t, nil
}

func (r *rooms) SetTicket(_ context.Context, room id.RoomID, t *protocol.TicketContent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failing {
		return errors.New("homeserver unreachable")
	}
	r.tickets[room] = *t
	r.sets++
	return nil
}

// snapshot is everything a callback may change.
type snapshot struct {
	statuses map[protocol.CaseID]string
	tickets  map[id.RoomID]protocol.TicketContent
	notices  int
	sets     int
}

type env struct {
	store   *store.Store
	rooms   *rooms
	svc     *tickets.Submissions
	handler http.Handler
	logs    *bytes.Buffer
	now     time.Time
	cases   []protocol.CaseID
}

// newEnv opens a store of the dialect with two ticketed cases: c1 of
// bauantrag names the documented submission, c2 of meldung another.
func newEnv(t *testing.T, dialect string, secret string) *env {
	t.Helper()
	ctx := context.Background()
	var uri string
	if dialect == store.TypePostgres {
		uri = testpg.New(t)
	} else {
		uri = filepath.Join(t.TempDir(), "rathaus.db")
	}
	s, err := store.Open(ctx, store.Options{Type: dialect, URI: uri, Log: zerolog.Nop()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	e := &env{store: s, rooms: &rooms{tickets: map[id.RoomID]protocol.TicketContent{}, sent: map[string]bool{}},
		logs: &bytes.Buffer{}, now: docSentAt.Add(time.Minute)}
	for _, c := range []struct {
		id                  protocol.CaseID
		service, submission string
	}{{"c1", "bauantrag", docSubmission}, {"c2", "meldung", otherSubmitted}} {
		tid := protocol.TicketID(c.service + ".jti-" + string(c.id))
		_, err = s.CreateCase(ctx, store.NewCase{ID: c.id, Department: "bauamt", Status: protocol.CaseQueued,
			Ghost: id.UserID("@_rathaus_guest_" + string(c.id) + ":hs.test"), Actor: "citizen", TicketRef: tid,
			Ticket:    &store.NewTicket{ID: tid, Service: c.service, Submission: c.submission},
			Reference: func(year, seq int) string { return fmt.Sprintf("BAU-%d-%05d", year, seq) }})
		require.NoError(t, err)
		room := id.RoomID("!" + string(c.id) + ":hs.test")
		require.NoError(t, s.SetCaseRoom(ctx, c.id, room))
		e.rooms.tickets[room] = protocol.TicketContent{ID: tid, Service: protocol.TicketService{ID: c.service},
			FITConnect: protocol.FITConnectIDs{Submission: c.submission}, Status: protocol.TicketOpen, Verified: true}
		e.cases = append(e.cases, c.id)
	}
	cfg := testConfig(secret)
	e.svc, err = tickets.NewSubmissions(tickets.SubmissionOptions{Config: func() *config.Config { return cfg }, Store: s, Rooms: e.rooms,
		Log: zerolog.New(e.logs)})
	require.NoError(t, err)
	e.handler = e.svc.CallbackHandler(func() time.Time { return e.now })
	return e
}

func (e *env) snapshot(t *testing.T) snapshot {
	t.Helper()
	s := snapshot{statuses: map[protocol.CaseID]string{}, tickets: map[id.RoomID]protocol.TicketContent{}}
	for _, c := range e.cases {
		tk, err := e.store.Ticket(context.Background(), c)
		require.NoError(t, err)
		s.statuses[c] = tk.SubmissionStatus
	}
	e.rooms.mu.Lock()
	defer e.rooms.mu.Unlock()
	for k, v := range e.rooms.tickets {
		s.tickets[k] = v
	}
	s.notices, s.sets = len(e.rooms.notices), e.rooms.sets
	return s
}

// post sends a callback to the service with the given headers.
func (e *env) post(t *testing.T, service, body, timestamp, auth string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/api/ozg/v1/fit-connect/callbacks/"+service, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if timestamp != "" {
		req.Header.Set(fitconnect.HeaderTimestamp, timestamp)
	}
	if auth != "" {
		req.Header.Set(fitconnect.HeaderAuthentication, auth)
	}
	mux := http.NewServeMux()
	mux.Handle(tickets.CallbackPattern, e.handler)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec
}

// signed posts body signed with secret at e.now.
func (e *env) signed(t *testing.T, service, secret, body string) *httptest.ResponseRecorder {
	t.Helper()
	ts, auth := fitconnect.Sign([]byte(secret), e.now, []byte(body))
	return e.post(t, service, body, ts, auth)
}

// statusBody is a status callback for one submission.
func statusBody(submission, status string) string {
	return fmt.Sprintf(`{"type":%q,"submissions":[{"submissionId":%q,"status":%q}],"note":"BODY-MARKER-%s"}`,
		tickets.TypeSubmissionStatus, submission, status, status)
}

func eachDialect(t *testing.T, fn func(t *testing.T, dialect string)) {
	t.Helper()
	for _, d := range []string{store.TypeSQLite, store.TypePostgres} {
		t.Run(d, func(t *testing.T) { fn(t, d) })
	}
}

// Acceptance 5 of issue 13, through the HTTP endpoint: FIT-Connect's
// documented callback verifies with the documented secret and marks the
// documented submission submitted; the documentation's older form is the
// same status again and changes nothing.
func TestDocumentedCallbackVerifies(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, docSecret)
		rec := e.post(t, "bauantrag", docBody, docTimestamp, docHMAC)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.JSONEq(t, `{}`, rec.Body.String())

		after := e.snapshot(t)
		assert.Equal(t, "submitted", after.statuses["c1"])
		assert.Empty(t, after.statuses["c2"])
		assert.Equal(t, protocol.SubmissionSubmitted, after.tickets["!c1:hs.test"].SubmissionStatus, "the room's ticket state")
		require.Equal(t, 1, after.notices)
		n := e.rooms.notices[0]
		assert.Equal(t, "submission_submitted", n.Raw[protocol.NoticeKindKey])
		assert.Equal(t, "submitted", n.Raw[protocol.SubmissionStatusKey])
		msg := n.Parsed.(*event.MessageEventContent)
		assert.Equal(t, event.MsgNotice, msg.MsgType)
		assert.Equal(t, "Status der FIT-Connect-Einreichung: abgeschickt / FIT-Connect submission status: submitted", msg.Body)
		assert.True(t, e.rooms.sent[appservice.TxnID("@rathaus:hs.test", "!c1:hs.test", "c1", "submission-status:submitted")],
			"the notice's transaction id follows from case and status")

		rec = e.post(t, "bauantrag", docBodyOld, docTimestamp, docHMACOld)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Equal(t, after, e.snapshot(t), "the same status again changes nothing")
		assert.Contains(t, e.logs.String(), `"outcome":"unchanged"`)
	})
}

// Acceptance 5 of issue 13: a stale timestamp, a changed body and a wrong
// secret are refused with 401, and so is everything else that does not
// verify; none changes the store or the room, and the log never carries
// the body.
func TestBadCallbacksChangeNothing(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, secretBau)
		body := statusBody(docSubmission, "forwarded")
		ts, auth := fitconnect.Sign([]byte(secretBau), e.now, []byte(body))
		before := e.snapshot(t)
		for _, tc := range []struct {
			name, service, body, ts, auth string
			now                           time.Time
		}{
			{"stale timestamp", "bauantrag", body, ts, auth, e.now.Add(5*time.Minute + time.Second)},
			{"timestamp from the future", "bauantrag", body, ts, auth, e.now.Add(-5*time.Minute - time.Second)},
			{"changed body", "bauantrag", strings.Replace(body, "forwarded", "accepted", 1), ts, auth, e.now},
			{"changed timestamp", "bauantrag", body, fmt.Sprint(e.now.Unix() + 1), auth, e.now},
			{"wrong secret", "bauantrag", body, ts, func() string {
				_, a := fitconnect.Sign([]byte(secretMelde), e.now, []byte(body))
				return a
			}(), e.now},
			{"the documented secret, which this service does not have", "bauantrag", body, ts, func() string {
				_, a := fitconnect.Sign([]byte(docSecret), e.now, []byte(body))
				return a
			}(), e.now},
			{"another service's path", "meldung", body, ts, auth, e.now},
			{"a service without callbacks", "ohne", body, ts, auth, e.now},
			{"an unknown service", "unbekannt", body, ts, auth, e.now},
			{"no signature", "bauantrag", body, ts, "", e.now},
			{"no timestamp", "bauantrag", body, "", auth, e.now},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e.now = tc.now
				defer func() { e.now = docSentAt.Add(time.Minute) }()
				rec := e.post(t, tc.service, tc.body, tc.ts, tc.auth)
				assert.Equal(t, http.StatusUnauthorized, rec.Code)
				var apiErr struct{ ErrCode, Error string }
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &apiErr))
				assert.Equal(t, "callback_refused", apiErr.ErrCode)
				assert.Equal(t, before, e.snapshot(t), "nothing changed")
			})
		}
		assert.Equal(t, 11, strings.Count(e.logs.String(), "Refused a FIT-Connect callback"))
		assert.NotContains(t, e.logs.String(), "BODY-MARKER", "no body in the log")
		assert.NotContains(t, e.logs.String(), docSubmission, "nothing of the body in the log")

		// Too large: refused before anything is read.
		big := `{"type":"x","pad":"` + strings.Repeat("a", tickets.MaxCallbackBytes) + `"}`
		assert.Equal(t, http.StatusRequestEntityTooLarge, e.signed(t, "bauantrag", secretBau, big).Code)
		assert.Equal(t, before, e.snapshot(t))
	})
}

// A submission moves on through its statuses; a repeated or late status
// changes nothing, and so does a callback about another service's
// submission, an unknown submission or an unknown type. A verified body
// that is not a callback is 400.
func TestSubmissionStatusMovesOn(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, secretBau)
		for _, status := range []string{"submitted", "forwarded"} {
			require.Equal(t, http.StatusOK, e.signed(t, "bauantrag", secretBau, statusBody(docSubmission, status)).Code)
		}
		// The secret being rotated out still works.
		require.Equal(t, http.StatusOK, e.signed(t, "bauantrag", secretBauOld, statusBody(docSubmission, "accepted")).Code)
		s := e.snapshot(t)
		assert.Equal(t, "accepted", s.statuses["c1"])
		assert.Equal(t, 3, s.notices)
		assert.Equal(t, protocol.SubmissionAccepted, s.tickets["!c1:hs.test"].SubmissionStatus)
		var kinds []any
		for _, n := range e.rooms.notices {
			kinds = append(kinds, n.Raw[protocol.NoticeKindKey])
		}
		assert.Equal(t, []any{"submission_submitted", "submission_forwarded", "submission_accepted"}, kinds)

		for name, body := range map[string]string{
			"repeated":                         statusBody(docSubmission, "accepted"),
			"late":                             statusBody(docSubmission, "forwarded"),
			"rejected after accepted":          statusBody(docSubmission, "rejected"),
			"another service's submission":     statusBody(otherSubmitted, "forwarded"),
			"unknown submission":               statusBody("5f6b7ac5-3c2a-4c6e-9a2e-0d0c6f6b7a11", "forwarded"),
			"unknown type":                     `{"type":"https://schema.fitko.de/fit-connect/submission-api/callbacks/new-replies","submissions":[{"submissionId":"` + otherSubmitted + `"}]}`,
			"unknown type without submissions": `{"type":"urn:x"}`,
		} {
			rec := e.signed(t, "bauantrag", secretBau, body)
			assert.Equal(t, http.StatusOK, rec.Code, "%s: %s", name, rec.Body.String())
			assert.Equal(t, s, e.snapshot(t), name)
		}
		assert.Contains(t, e.logs.String(), `"outcome":"other_service"`)
		assert.Contains(t, e.logs.String(), `"outcome":"unknown_submission"`)

		for name, tc := range map[string]struct{ body, msg string }{
			"not JSON":           {`status: accepted`, "not a FIT-Connect callback"},
			"no type":            {`{"submissions":[]}`, "not a FIT-Connect callback"},
			"an unknown status":  {statusBody(otherSubmitted, "approved"), "submissions[0].status"},
			"no submission id":   {`{"type":"` + tickets.TypeSubmissionStatus + `","submissions":[{"status":"accepted"}]}`, "submissions[0].submissionId"},
			"incomplete is none": {statusBody(otherSubmitted, "incomplete"), "submissions[0].status"},
		} {
			rec := e.signed(t, "meldung", secretMelde, tc.body)
			assert.Equal(t, http.StatusBadRequest, rec.Code, name)
			assert.Contains(t, rec.Body.String(), tc.msg, name)
			assert.Equal(t, s, e.snapshot(t), name)
		}
	})
}

// A homeserver that fails makes the callback 503 with the old status
// stored; the sender's retry finishes it and the notice is sent once.
func TestFailedCallbackIsRepeatedOnce(t *testing.T) {
	e := newEnv(t, store.TypeSQLite, secretBau)
	body := statusBody(docSubmission, "forwarded")
	e.rooms.failing = true
	rec := e.signed(t, "bauantrag", secretBau, body)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Empty(t, e.snapshot(t).statuses["c1"], "not stored before the room shows it")
	e.rooms.failing = false
	for range 2 {
		require.Equal(t, http.StatusOK, e.signed(t, "bauantrag", secretBau, body).Code)
	}
	s := e.snapshot(t)
	assert.Equal(t, "forwarded", s.statuses["c1"])
	assert.Equal(t, 1, s.notices)
	assert.NotContains(t, e.logs.String(), "BODY-MARKER")

	// A case whose room is still being made: 503, until the room exists.
	ctx := context.Background()
	const opening = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
	_, err := e.store.CreateCase(ctx, store.NewCase{ID: "c3", Department: "bauamt", Status: protocol.CaseQueued,
		Ghost: "@_rathaus_guest_c3:hs.test", Actor: "citizen", TicketRef: "bauantrag.jti-c3",
		Ticket:    &store.NewTicket{ID: "bauantrag.jti-c3", Service: "bauantrag", Submission: opening},
		Reference: func(year, seq int) string { return fmt.Sprintf("BAU-%d-%05d", year, seq) }})
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, e.signed(t, "bauantrag", secretBau, statusBody(opening, "submitted")).Code)
	tk, err := e.store.Ticket(ctx, "c3")
	require.NoError(t, err)
	assert.Empty(t, tk.SubmissionStatus)
	assert.Equal(t, 1, e.snapshot(t).notices)
}
