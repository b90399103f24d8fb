package tickets_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/outbox"
	"github.com/rathaus-de/rathaus/outbox/webhook"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
	"github.com/rathaus-de/rathaus/tickets"
)

const testSecret = "0123456789abcdef0123456789abcdef-tickets"

func TestEventType(t *testing.T) {
	for _, tc := range []struct {
		action string
		from   protocol.CaseStatus
		to     protocol.CaseStatus
		want   string
	}{
		{"open", "", protocol.CaseQueued, tickets.EventOpened},
		{"claim", protocol.CaseQueued, protocol.CaseActive, tickets.EventClaimed},
		{"await_citizen", protocol.CaseActive, protocol.CaseAwaitingCitizen, tickets.EventAwaitingCitizen},
		{"citizen_reply", protocol.CaseAwaitingCitizen, protocol.CaseActive, tickets.EventCitizenReplied},
		{"resolve", protocol.CaseActive, protocol.CaseResolved, tickets.EventResolved},
		{"close", protocol.CaseResolved, protocol.CaseClosed, tickets.EventClosed},
		{"reopen", protocol.CaseClosed, protocol.CaseActive, tickets.EventReopened},
		{"transfer:standesamt", protocol.CaseActive, protocol.CaseQueued, tickets.EventTransferred},
		{"hand_over", protocol.CaseActive, protocol.CaseTransferred, tickets.EventTransferred},
		{"abandon", protocol.CaseQueued, protocol.CaseAbandoned, tickets.EventAbandoned},
		{"something-new", protocol.CaseActive, protocol.CaseResolved, "case.resolved"},
	} {
		t.Run(tc.action, func(t *testing.T) {
			assert.Equal(t, tc.want, tickets.EventType(store.TicketStatusJob{Action: tc.action, From: tc.from, To: tc.to}))
		})
	}
}

// hookReceiver verifies every delivery as docs/ozg.md tells receivers to.
type hookReceiver struct {
	mu      sync.Mutex
	headers []http.Header
	bodies  [][]byte
	status  int
}

func (rc *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.headers = append(rc.headers, r.Header.Clone())
	rc.bodies = append(rc.bodies, body)
	if rc.status != 0 {
		w.WriteHeader(rc.status)
	}
}

func (rc *hookReceiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.bodies)
}

// webhookConfig is a config with one service whose webhook is set by
// hook.
func webhookConfig(hook config.OZGWebhookConfig) *config.Config {
	return &config.Config{OZG: config.OZGConfig{Services: []config.OZGServiceConfig{
		{ID: "bauantrag", Name: "Bauantrag online", Webhook: hook}}}}
}

func ticketJob(t *testing.T, j store.TicketStatusJob) store.Job {
	t.Helper()
	payload, err := json.Marshal(j)
	require.NoError(t, err)
	return store.Job{ID: 1, Kind: store.JobKindTicketStatus, DeliveryID: store.TicketStatusDeliveryID(j.CaseID, j.Seq), Payload: payload}
}

var claimed = store.TicketStatusJob{CaseID: "c0ffee", Reference: "BAU-2026-0007", TicketID: "bauantrag.jti-1",
	Service: "bauantrag", Submission: "5f6b7ac5-3c2a-4c6e-9a2e-0d0c6f6b7a11", From: protocol.CaseQueued,
	To: protocol.CaseActive, Action: "claim", At: time.Date(2026, 11, 28, 9, 30, 0, 123e6, time.UTC).UnixMilli(), Seq: 2}

func TestStatusWebhookSent(t *testing.T) {
	rc := &hookReceiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	cfg := webhookConfig(config.OZGWebhookConfig{URL: srv.URL + "/status", Secret: testSecret, AllowPrivate: true})
	h, err := tickets.NewStatusWebhooks(tickets.WebhookOptions{Config: func() *config.Config { return cfg }, Log: zerolog.Nop()})
	require.NoError(t, err)
	require.NoError(t, h.Run(context.Background(), ticketJob(t, claimed)))
	require.Equal(t, 1, rc.count())
	id, err := webhook.Verify([]byte(testSecret), rc.headers[0], rc.bodies[0], time.Now())
	require.NoError(t, err)
	assert.Equal(t, "c0ffee.2", id)
	assert.JSONEq(t, `{"type":"case.claimed","delivery_id":"c0ffee.2","occurred_at":"2026-11-28T09:30:00.123Z",
		"case":{"id":"c0ffee","reference":"BAU-2026-0007","status":"active","previous_status":"queued","seq":2},
		"ticket":{"id":"bauantrag.jti-1","service_id":"bauantrag","submission_id":"5f6b7ac5-3c2a-4c6e-9a2e-0d0c6f6b7a11"}}`,
		string(rc.bodies[0]))

	// A rotated secret: both signatures, each verifies.
	cfg = webhookConfig(config.OZGWebhookConfig{URL: srv.URL, Secret: strings.Repeat("n", 32), PreviousSecret: testSecret, AllowPrivate: true})
	require.NoError(t, h.Run(context.Background(), ticketJob(t, claimed)))
	require.Equal(t, 2, rc.count())
	for _, s := range []string{strings.Repeat("n", 32), testSecret} {
		_, err = webhook.Verify([]byte(s), rc.headers[1], rc.bodies[1], time.Now())
		assert.NoError(t, err)
	}
}

func TestStatusWebhookOutcomes(t *testing.T) {
	rc := &hookReceiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	allowed := config.OZGWebhookConfig{URL: srv.URL, Secret: testSecret, AllowPrivate: true}
	tests := []struct {
		name      string
		cfg       *config.Config
		job       store.Job
		status    int
		sent      bool
		permanent bool // nil error if neither this nor retry
		retry     bool
	}{
		{name: "no webhook: done unsent", cfg: webhookConfig(config.OZGWebhookConfig{}), job: ticketJob(t, claimed)},
		{name: "service removed: parked", cfg: &config.Config{}, job: ticketJob(t, claimed), permanent: true},
		{name: "not a status change: parked", cfg: webhookConfig(allowed), job: store.Job{Payload: []byte(`{"target":"x"}`)}, permanent: true},
		{name: "receiver fails: retried", cfg: webhookConfig(allowed), job: ticketJob(t, claimed), status: 503, sent: true, retry: true},
		{name: "receiver refuses: parked", cfg: webhookConfig(allowed), job: ticketJob(t, claimed), status: 410, sent: true, permanent: true},
		{name: "loopback not allowed: parked", cfg: webhookConfig(config.OZGWebhookConfig{URL: srv.URL, Secret: testSecret}),
			job: ticketJob(t, claimed), permanent: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc.mu.Lock()
			rc.status = tc.status
			rc.mu.Unlock()
			before := rc.count()
			h, err := tickets.NewStatusWebhooks(tickets.WebhookOptions{Config: func() *config.Config { return tc.cfg }, Log: zerolog.Nop()})
			require.NoError(t, err)
			err = h.Run(context.Background(), tc.job)
			switch {
			case tc.permanent:
				assert.ErrorIs(t, err, outbox.ErrPermanent)
			case tc.retry:
				require.Error(t, err)
				assert.NotErrorIs(t, err, outbox.ErrPermanent)
			default:
				assert.NoError(t, err)
			}
			if tc.sent {
				assert.Equal(t, before+1, rc.count())
			} else {
				assert.Equal(t, before, rc.count(), "nothing sent")
			}
		})
	}
}
