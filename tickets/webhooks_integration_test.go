package tickets_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/internal/app"
	"github.com/rathaus-de/rathaus/internal/app/apptest"
	"github.com/rathaus-de/rathaus/internal/cli"
	"github.com/rathaus-de/rathaus/internal/guestclient"
	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/outbox/webhook"
	"github.com/rathaus-de/rathaus/ozg/ozgtest"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
	"github.com/rathaus-de/rathaus/tickets"
)

// statusReceiver is an online service's webhook endpoint as docs/ozg.md
// describes it: it verifies signature and timestamp of every delivery,
// refuses what does not verify, and de-duplicates by delivery id. The
// test makes it fail on purpose: the first failFirst[event type] attempts
// of a delivery answer 500, and failAlways[delivery id] answers 500 until
// cleared.
type statusReceiver struct {
	secret []byte
	mu     sync.Mutex
	// attempts counts the verified attempts per delivery id.
	attempts   map[string]int
	failFirst  map[string]int
	failAlways map[string]bool
	// accepted are the events answered 2xx, in order; acceptedN counts
	// them per delivery id.
	accepted  []tickets.StatusEvent
	acceptedN map[string]int
	raw       []string
	refused   []string
}

func newStatusReceiver(secret string) *statusReceiver {
	return &statusReceiver{secret: []byte(secret), attempts: map[string]int{}, failFirst: map[string]int{},
		failAlways: map[string]bool{}, acceptedN: map[string]int{}}
}

func (rc *statusReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "unreadable", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	deliveryID, err := webhook.Verify(rc.secret, r.Header, body, time.Now())
	var ev tickets.StatusEvent
	if err == nil {
		if err = json.Unmarshal(body, &ev); err == nil && ev.DeliveryID != deliveryID {
			err = fmt.Errorf("body names delivery %q, header %q", ev.DeliveryID, deliveryID)
		}
	}
	if err != nil {
		rc.refused = append(rc.refused, err.Error())
		http.Error(w, "refused", http.StatusUnauthorized)
		return
	}
	rc.attempts[deliveryID]++
	if rc.failAlways[deliveryID] || rc.attempts[deliveryID] <= rc.failFirst[ev.Type] {
		http.Error(w, "temporarily unavailable", http.StatusInternalServerError)
		return
	}
	if rc.acceptedN[deliveryID] == 0 { // a duplicate is acknowledged, not processed again
		rc.accepted = append(rc.accepted, ev)
		rc.raw = append(rc.raw, string(body))
	}
	rc.acceptedN[deliveryID]++
	w.WriteHeader(http.StatusNoContent)
}

// waitFor waits up to limit until the receiver accepted the delivery and
// returns it.
func (rc *statusReceiver) waitFor(t *testing.T, limit time.Duration, deliveryID string) tickets.StatusEvent {
	t.Helper()
	var ev tickets.StatusEvent
	tesths.WaitFor(t, limit, "the webhook "+deliveryID, func() error {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		for _, e := range rc.accepted {
			if e.DeliveryID == deliveryID {
				ev = e
				return nil
			}
		}
		return fmt.Errorf("not delivered yet (%d attempts)", rc.attempts[deliveryID])
	})
	return ev
}

// outboxPoll is the outbox's poll in TestStatusWebhooks, and woken is
// how soon a status webhook must arrive after the status change: well
// before the next poll.
const (
	outboxPoll = 15 * time.Second
	woken      = 8 * time.Second
)

const (
	webhookSecret = "whsec-integration-test-0123456789abcdef"
	leika         = "99108008000000"
	portal        = "http://127.0.0.1:8443"
	question      = "Darf ich auf Flurstück 17/3 eine Garage bauen?"
)

// TestStatusWebhooks (issue 13, acceptance 4): a case handed over by an
// online service is opened, claimed, resolved and closed on Synapse; the
// service's receiver verifies signature and timestamp of each status
// webhook and sees them in order, once per delivery id. The receiver
// failing for a while is retried; failing past the bound parks the job,
// which the operator command requeues and the outbox then delivers.
func TestStatusWebhooks(t *testing.T) {
	ctx := context.Background()
	rc := newStatusReceiver(webhookSecret)
	// The receiver is down for the first two attempts of the opening.
	rc.failFirst[tickets.EventOpened] = 2
	receiver := httptest.NewServer(rc)
	defer receiver.Close()

	guestListener, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + guestListener.Addr().String()
	svc := ozgtest.NewService("bauantrag", "Bauantrag online", portal)
	var anna apptest.StaffUser
	env, _ := apptest.Launch(t, apptest.Options{Homeservers: []tesths.Kind{tesths.Synapse},
		Configure: func(hss []*tesths.Homeserver) string {
			cli, uid, _ := hss[0].RegisterUser(t, "anna", false)
			anna = apptest.StaffUser{Cli: cli, ID: uid}
			return "departments:\n  - id: bauamt\n    name: Bauamt\n    services: [\"" + leika + "\"]\n    staff:\n" +
				fmt.Sprintf("      - user: %q\n        role: caseworker\n", uid)
		},
		Tweak: func(cfg *config.Config, opts *app.Options) {
			cfg.GuestChat.Enabled, cfg.GuestChat.Listen, cfg.GuestChat.PublicURL = true, guestListener.Addr().String(), base
			cfg.GuestChat.PowDifficulty = 8
			cfg.Authority.PrivacyURL = "https://bad-beispielheim.de/datenschutz"
			service := svc.Config()
			service.Webhook = config.OZGWebhookConfig{URL: receiver.URL + "/rathaus/status", Secret: webhookSecret, AllowPrivate: true}
			cfg.OZG = config.OZGConfig{DefaultDepartment: "bauamt", Services: []config.OZGServiceConfig{service}}
			require.NoError(t, cfg.Validate())
			opts.GuestListener = guestListener
			// Retries within moments instead of 10 s doubling, parked
			// after the third failure; a poll slower than the waits for
			// status webhooks below, which only the wake-up on case
			// updates can meet.
			opts.Outbox = app.OutboxOptions{Backoff: func(int) time.Duration { return 100 * time.Millisecond }, MaxAttempts: 3, Poll: outboxPoll}
		}})
	bot := env.Cfg.BotUserID()
	staffRoom, err := anna.Cli.ResolveAlias(ctx, id.NewRoomAlias("_rathaus_bauamt", env.Cfg.Homeserver.ServerName))
	require.NoError(t, err)
	_, err = anna.Cli.JoinRoomByID(ctx, staffRoom.RoomID)
	require.NoError(t, err)
	command := func(room id.RoomID, text, want string) {
		t.Helper()
		sent, err := anna.Cli.SendText(ctx, room, text)
		require.NoError(t, err)
		assert.Contains(t, apptest.BotReplyTo(t, anna.Cli, room, bot, sent.EventID), want, text)
	}

	// The citizen comes from the online service with a signed context.
	citizen := guestclient.New(base)
	_, err = citizen.StartSession(ctx)
	require.NoError(t, err)
	handOver := map[string]string{"origin": portal, "context": svc.Sign(ozgtest.Claims{"leika": leika,
		"step": "Angaben zum Grundstück", "submission": "5f6b7ac5-3c2a-4c6e-9a2e-0d0c6f6b7a11"})}
	caseID := func(c *guestclient.Case) protocol.CaseID { return protocol.CaseID(c.ID) }
	c, err := citizen.OpenCase(ctx, guestclient.OpenRequest{Department: "bauamt", Question: question, TxnID: "question-0001", HandOver: handOver})
	require.NoError(t, err)
	delivery := func(seq int) string { return store.TicketStatusDeliveryID(caseID(c), seq) }
	stored, err := env.App.Cases().Case(ctx, caseID(c))
	require.NoError(t, err)

	opened := rc.waitFor(t, woken, delivery(1))
	assert.Equal(t, tickets.EventOpened, opened.Type)
	assert.Equal(t, protocol.CaseQueued, opened.Case.Status)
	assert.Equal(t, c.Reference, opened.Case.Reference)
	assert.Equal(t, stored.TicketRef, opened.Ticket.ID)
	assert.Equal(t, "bauantrag", opened.Ticket.ServiceID)
	assert.Equal(t, "5f6b7ac5-3c2a-4c6e-9a2e-0d0c6f6b7a11", opened.Ticket.Submission)

	command(staffRoom.RoomID, "!rathaus claim "+c.Reference, "ist jetzt Ihr Fall")
	claimed := rc.waitFor(t, woken, delivery(2))
	assert.Equal(t, tickets.EventClaimed, claimed.Type)
	tesths.WaitFor(t, 30*time.Second, "anna to join the case room", func() error {
		_, err := anna.Cli.JoinRoomByID(ctx, stored.RoomID)
		return err
	})
	command(stored.RoomID, "!rathaus resolve", "erledigt")
	resolved := rc.waitFor(t, woken, delivery(3))
	assert.Equal(t, tickets.EventResolved, resolved.Type)

	// The receiver fails every attempt of the closing: parked after 3.
	rc.mu.Lock()
	rc.failAlways[delivery(4)] = true
	rc.mu.Unlock()
	command(stored.RoomID, "!rathaus close", "geschlossen")
	s := env.App.Store()
	tesths.WaitFor(t, woken, "the closing's job to be parked", func() error {
		parked, err := s.ParkedJobs(ctx, 10)
		if err != nil {
			return err
		}
		for _, j := range parked {
			if j.DeliveryID == delivery(4) {
				return nil
			}
		}
		return fmt.Errorf("not parked yet")
	})
	tesths.WaitFor(t, 30*time.Second, "the parked job in the metrics", func() error {
		if m := apptest.Scrape(t, "http://"+env.Cfg.Metrics.Listen+"/metrics"); !strings.Contains(m, "rathaus_outbox_jobs_parked 1\n") {
			return fmt.Errorf("not yet counted")
		}
		return nil
	})
	rc.mu.Lock()
	assert.Equal(t, 3, rc.attempts[delivery(4)], "parked after the third attempt")
	rc.failAlways[delivery(4)] = false
	rc.mu.Unlock()

	// The operator lists and requeues it; the running rathaus delivers it.
	cfgPath := writeOperatorConfig(t, env.Cfg)
	var stdout, stderr bytes.Buffer
	require.Equal(t, cli.ExitOK, cli.Main([]string{"parked", "-c", cfgPath}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), delivery(4))
	assert.Contains(t, stdout.String(), "the receiver answered 500")
	stdout.Reset()
	require.Equal(t, cli.ExitOK, cli.Main([]string{"parked", "-c", cfgPath, "-requeue-jobs", "all"}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "Requeued 1 parked outbox job(s)")
	// A requeued job waits for the worker's next poll: the command may
	// run anywhere, with no way to wake it.
	closed := rc.waitFor(t, outboxPoll+15*time.Second, delivery(4))
	assert.Equal(t, tickets.EventClosed, closed.Type)
	assert.Equal(t, protocol.CaseResolved, closed.Case.PreviousStatus)

	rc.mu.Lock()
	defer rc.mu.Unlock()
	assert.Empty(t, rc.refused, "every delivery verifies")
	var types []string
	for _, e := range rc.accepted {
		types = append(types, e.Type)
	}
	assert.Equal(t, []string{tickets.EventOpened, tickets.EventClaimed, tickets.EventResolved, tickets.EventClosed}, types)
	for i, e := range rc.accepted {
		assert.Equal(t, i+1, e.Case.Seq)
		assert.Equal(t, 1, rc.acceptedN[e.DeliveryID], "delivered once: %s", e.DeliveryID)
	}
	assert.Equal(t, 3, rc.attempts[delivery(1)], "two failures, then delivered")
	assert.Len(t, rc.attempts, 4, "no other delivery ids")
	for _, body := range rc.raw {
		assert.NotContains(t, body, "Flurstück", "no message text in a webhook")
	}
	assert.NotContains(t, env.Log(), "Flurstück 17/3", "no message text in the log")
}

// writeOperatorConfig writes a config file for `rathaus parked`: the
// running rathaus's database, homeserver and tokens.
func writeOperatorConfig(t *testing.T, cfg *config.Config) string {
	t.Helper()
	yml := fmt.Sprintf(`homeserver:
  url: %q
  server_name: %q
appservice:
  listen: %q
  as_token: %q
  hs_token: %q
database:
  type: sqlite
  uri: %q
authority:
  name: Stadt Prüfheim
  ags: "09162000"
guest_chat:
  enabled: false
`, cfg.Homeserver.URL, cfg.Homeserver.ServerName, cfg.AppService.Listen, cfg.AppService.ASToken, cfg.AppService.HSToken, cfg.Database.URI)
	path := filepath.Join(t.TempDir(), "rathaus.yaml")
	require.NoError(t, os.WriteFile(path, []byte(yml), 0o600))
	return path
}
