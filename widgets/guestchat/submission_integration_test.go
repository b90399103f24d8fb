package guestchat_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/internal/app/apptest"
	"github.com/rathaus-de/rathaus/internal/guestclient"
	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/internal/testpg"
	"github.com/rathaus-de/rathaus/ozg/fitconnect"
	"github.com/rathaus-de/rathaus/ozg/ozgtest"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/tickets"
)

// callbackSecret is the online service's fit_connect.callback_secret.
var callbackSecret = "3xq9V0tBqz8mK1wR7pL2sN5cY4hJ6dF0aG8eU3iO9"

// TestSubmissionStatusReachesRoomAndPage: a case opened by a hand-over
// that names a FIT-Connect submission; signed status callbacks change the
// room's ticket state and put the bot's notice in the case room (read by
// staff through the client API) and in the citizen's timeline (live and
// in the transcript), once per status; a callback that does not verify
// changes nothing. The database is PostgreSQL.
func TestSubmissionStatusReachesRoomAndPage(t *testing.T) {
	apptest.EachHomeserver(t, func(t *testing.T, kind tesths.Kind) { submissionStatus(t, kind) })
}

func submissionStatus(t *testing.T, kind tesths.Kind) {
	t.Helper()
	ctx := context.Background()
	const submission = "7d3c1f0e-5b2a-4e8f-9c6d-1a2b3c4d5e6f"
	svc := ozgtest.NewService("bauantrag", "Bauantrag online", handOverOrigin)
	ge := startGuestChatWith(t, kind, func(cfg *config.Config) {
		cfg.Database.Type, cfg.Database.URI = config.DatabasePostgres, testpg.New(t)
		sc := svc.Config()
		sc.FITConnect.CallbackSecret = callbackSecret
		cfg.OZG = config.OZGConfig{DefaultDepartment: "bauamt", Services: []config.OZGServiceConfig{sc}}
	})

	citizen := guestclient.New(ge.base)
	_, err := citizen.StartSession(ctx)
	require.NoError(t, err)
	c, err := citizen.OpenCase(ctx, guestclient.OpenRequest{Department: "bauamt", Question: "Ist mein Antrag angekommen?",
		TxnID: "question-0001", HandOver: map[string]string{"origin": handOverOrigin,
			"context": svc.Sign(ozgtest.Claims{"leika": testService, "submission": submission, "jti": "callback-jti-0001"})}})
	require.NoError(t, err)
	stored, err := ge.App.Cases().Case(ctx, protocol.CaseID(c.ID))
	require.NoError(t, err)
	ge.claim(t, c.Reference, stored.RoomID)
	stream, err := citizen.Stream(ctx, c.ID, 0)
	require.NoError(t, err)
	defer stream.Close()

	post := func(body, secret string) int {
		t.Helper()
		ts, auth := fitconnect.Sign([]byte(secret), time.Now(), []byte(body))
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, ge.base+"/api/ozg/v1/fit-connect/callbacks/bauantrag",
			bytes.NewReader([]byte(body)))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(fitconnect.HeaderTimestamp, ts)
		req.Header.Set(fitconnect.HeaderAuthentication, auth)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	status := func(s string) string {
		return fmt.Sprintf(`{"type":%q,"submissions":[{"submissionId":%q,"status":%q}]}`, tickets.TypeSubmissionStatus, submission, s)
	}
	noticesOf := func(kind string) []*event.Event {
		var out []*event.Event
		for _, evt := range roomMessages(t, ge.anna.Cli, stored.RoomID, ge.Cfg.BotUserID()) {
			if evt.Content.Raw[protocol.NoticeKindKey] == kind {
				out = append(out, evt)
			}
		}
		return out
	}
	ticket := func() protocol.TicketContent {
		var tc protocol.TicketContent
		require.NoError(t, ge.anna.Cli.StateEvent(ctx, stored.RoomID, protocol.TicketEventType, string(stored.TicketRef), &tc))
		return tc
	}

	// FIT-Connect's own new-submissions callback: submitted.
	body := fmt.Sprintf(`{"type":%q,"submissions":[{"destinationId":"d12caea8-f372-4eb1-b102-b0a228253a11","submissionId":%q}]}`,
		fitconnect.TypeNewSubmissions, submission)
	require.Equal(t, http.StatusOK, post(body, callbackSecret))
	require.Equal(t, http.StatusOK, post(status("forwarded"), callbackSecret))

	// Staff read it through the client API: the ticket state and the notice.
	assert.Equal(t, protocol.SubmissionForwarded, ticket().SubmissionStatus)
	forwarded := noticesOf("submission_forwarded")
	require.Len(t, forwarded, 1)
	msg := forwarded[0].Content.AsMessage()
	assert.Equal(t, event.MsgNotice, msg.MsgType)
	assert.Equal(t, "Status der FIT-Connect-Einreichung: weitergeleitet / FIT-Connect submission status: forwarded", msg.Body)
	assert.Len(t, noticesOf("submission_submitted"), 1)
	row, err := ge.App.Store().Ticket(ctx, stored.ID)
	require.NoError(t, err)
	assert.Equal(t, "forwarded", row.SubmissionStatus)

	// The citizen's page gets both steps, in order.
	for _, want := range []string{"submission_submitted", "submission_forwarded"} {
		_, err = stream.Next(30*time.Second, func(e guestclient.Event) bool { return e.Name == "notice" && e.Data["notice"] == want })
		require.NoError(t, err, want)
	}

	// The same status again, then a late one and a bad signature: nothing
	// changes; the next status does.
	require.Equal(t, http.StatusOK, post(status("forwarded"), callbackSecret))
	require.Equal(t, http.StatusOK, post(status("submitted"), callbackSecret))
	require.Equal(t, http.StatusUnauthorized, post(status("rejected"), strings.Repeat("x", 40)))
	require.Equal(t, http.StatusOK, post(status("accepted"), callbackSecret))
	tesths.WaitFor(t, 30*time.Second, "the accepted notice in the case room", func() error {
		if len(noticesOf("submission_accepted")) != 1 {
			return fmt.Errorf("no accepted notice yet")
		}
		return nil
	})
	assert.Len(t, noticesOf("submission_forwarded"), 1, "sent once")
	assert.Len(t, noticesOf("submission_submitted"), 1, "sent once")
	assert.Empty(t, noticesOf("submission_rejected"), "the badly signed callback changed nothing")
	assert.Equal(t, protocol.SubmissionAccepted, ticket().SubmissionStatus)
	e, err := stream.Next(30*time.Second, func(e guestclient.Event) bool { return e.Name == "notice" })
	require.NoError(t, err)
	assert.Equal(t, "submission_accepted", e.Data["notice"], "the next step the page sees")

	// The transcript words it as the page does.
	resp, err := citizen.Get(ctx, "cases/"+c.ID+"/transcript")
	require.NoError(t, err)
	transcript := string(resp.Body)
	assert.Contains(t, transcript, "Ihr Antrag wurde weitergeleitet. Er ist auf dem Weg zur zuständigen Stelle.")
	assert.Contains(t, transcript, "Ihr Antrag ist bei der zuständigen Stelle angekommen.")
	assert.NotContains(t, transcript, "FIT-Connect", "the staff's wording stays among staff")
	assert.NotContains(t, ge.Log(), submission+`","status`, "no callback body in the log")
}
