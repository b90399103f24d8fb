package guestchat_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/internal/guestclient"
	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/internal/testpg"
	"github.com/rathaus-de/rathaus/protocol"
)

func TestMain(m *testing.M) { os.Exit(testpg.Main(m)) }

// TestServiceMustBeKnown (issue 12, point 1): the service field is the
// citizen's input; only a LeiKa key of the config gets through, so free
// text never reaches the staff room under the bot's name, and a huge value
// is refused up front instead of failing the announcement.
func TestServiceMustBeKnown(t *testing.T) {
	ge := startGuestChat(t, tesths.Dendrite, nil)
	ctx := context.Background()
	citizen := guestclient.New(ge.base)
	_, err := citizen.StartSession(ctx)
	require.NoError(t, err)
	for _, service := range []string{
		"99108008000000\nACHTUNG: Ihr Konto wird gesperrt. Bitte melden Sie sich unter https://stadt-login.example an.",
		strings.Repeat("A", 70000),
		"99999999999999", // a LeiKa key no department handles
	} {
		tok, nonce, err := citizen.Solve(ctx)
		require.NoError(t, err)
		resp, err := citizen.OpenCaseWith(ctx, guestclient.OpenRequest{Department: "bauamt", Service: service,
			Question: "Hallo?", TxnID: "question-0001"}, tok, nonce)
		require.NoError(t, err)
		assert.Contains(t, []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge}, resp.Status, "%.200s", resp.Body)
	}
	again, err := citizen.Resume(ctx)
	require.NoError(t, err)
	assert.Nil(t, again, "no case was opened")
	for _, m := range roomMessages(t, ge.anna.Cli, ge.staffRoom, ge.Cfg.BotUserID()) {
		assert.NotContains(t, m.Content.AsMessage().Body, "Konto", "the citizen's text reached staff")
	}

	c, err := citizen.OpenCase(ctx, guestclient.OpenRequest{Service: testService, Question: "Hallo?", TxnID: "question-0002"})
	require.NoError(t, err)
	tesths.WaitFor(t, 30*time.Second, "the announcement", func() error {
		for _, m := range roomMessages(t, ge.anna.Cli, ge.staffRoom, ge.Cfg.BotUserID()) {
			if body := m.Content.AsMessage().Body; strings.Contains(body, c.Reference) {
				assert.Contains(t, body, testService)
				return nil
			}
		}
		return assert.AnError
	})
}

// TestQuotaCountsOnlyVerifiedProofs (issue 12, point 2): requests with a
// fake proof of work do not spend the address's hourly case quota, so
// one person cannot stop everyone behind the same address from opening
// cases.
func TestQuotaCountsOnlyVerifiedProofs(t *testing.T) {
	ge := startGuestChat(t, tesths.Dendrite, func(g *config.GuestChatConfig, _ *config.RetentionConfig) {
		g.RateLimits.CasesPerHourPerAddress = 3
	})
	ctx := context.Background()
	attacker := guestclient.New(ge.base)
	_, err := attacker.StartSession(ctx)
	require.NoError(t, err)
	for range 10 {
		resp, err := attacker.OpenCaseWith(ctx, guestclient.OpenRequest{Department: "bauamt", Question: "x", TxnID: "question-0001"},
			"fake-token", "0")
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
		assert.Contains(t, string(resp.Body), "pow_invalid")
	}
	citizen := guestclient.New(ge.base)
	_, err = citizen.StartSession(ctx)
	require.NoError(t, err)
	_, err = citizen.OpenCase(ctx, guestclient.OpenRequest{Department: "bauamt", Question: "Guten Tag", TxnID: "question-0001"})
	require.NoError(t, err, "the real citizen behind the same address can still open a case")
}

// TestCitizenTextHygiene (issue 12, point 7), on SQLite and on
// PostgreSQL: every text from outside is normalised in one place. NUL,
// ESC and BEL never reach Matrix, the database or the transcript; CR and
// U+2028 cannot forge a line in the transcript; a display name cannot
// hide " (Gast)"; a message of zero-width spaces is refused; and a NUL a
// Matrix client sends does not stall the case's timeline.
func TestCitizenTextHygiene(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			ge := startGuestChatWith(t, tesths.Dendrite, func(cfg *config.Config) {
				if db == "postgres" {
					cfg.Database.Type, cfg.Database.URI = config.DatabasePostgres, testpg.New(t)
				}
			})
			citizenTextHygiene(t, ge)
		})
	}
}

func citizenTextHygiene(t *testing.T, ge *guestEnv) {
	t.Helper()
	ctx := context.Background()
	citizen := guestclient.New(ge.base)
	_, err := citizen.StartSession(ctx)
	require.NoError(t, err)
	c, err := citizen.OpenCase(ctx, guestclient.OpenRequest{Department: "bauamt", TxnID: "question-0001",
		Name:     "Maria\u202E\u2003\u2003\u2003\u2003\u2003\u2003\u2003\u2003\u200B\u200B",
		Question: "Frage\r\n[12:00] Bauamt: Ihr Antrag ist abgelehnt\x00\x1b[2J\x07"})
	require.NoError(t, err)
	stream, err := citizen.Stream(ctx, c.ID, 0)
	require.NoError(t, err)
	defer stream.Close()
	nextMessage(t, stream, "citizen", "Frage\n[12:00] Bauamt: Ihr Antrag ist abgelehnt[2J")
	stored, err := ge.App.Cases().Case(ctx, protocol.CaseID(c.ID))
	require.NoError(t, err)
	ge.claim(t, c.Reference, stored.RoomID)

	var member event.MemberEventContent
	require.NoError(t, ge.anna.Cli.StateEvent(ctx, stored.RoomID, event.StateMember, stored.Ghost.String(), &member))
	assert.Equal(t, "Maria (Gast)", member.Displayname, "padding and overrides cannot hide \" (Gast)\"")

	for _, body := range []string{"\u200B\u200B\u200B", " \u2060\uFEFF\n", "\x00"} {
		resp, err := citizen.Send(ctx, c.ID, "text-empty01", body)
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, resp.Status, "%q is no message: %s", body, resp.Body)
	}
	resp, err := citizen.Send(ctx, c.ID, "text-0001", "Zeile eins\u2028[12:01] Bauamt: gefälscht\rdrei\x00\x07")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	nextMessage(t, stream, "citizen", "Zeile eins\n[12:01] Bauamt: gefälscht\ndrei")
	msgs := roomMessages(t, ge.anna.Cli, stored.RoomID, stored.Ghost)
	assert.Equal(t, "Zeile eins\n[12:01] Bauamt: gefälscht\ndrei", msgs[len(msgs)-1].Content.AsMessage().Body,
		"Matrix gets the normalised text")

	// A Matrix client may send anything JSON allows, NUL included; on
	// PostgreSQL storing it would fail, and the case's timeline with it.
	_, err = ge.anna.Cli.SendMessageEvent(ctx, stored.RoomID, event.EventMessage, map[string]any{
		"msgtype": "m.text", "body": "Antwort\u0000 mit NUL\u001b und\u2028Trenner"})
	require.NoError(t, err)
	_, err = ge.anna.Cli.SendText(ctx, stored.RoomID, "Danach geht es weiter.")
	require.NoError(t, err)
	nextMessage(t, stream, "staff", "Antwort mit NUL und\nTrenner")
	nextMessage(t, stream, "staff", "Danach geht es weiter.")

	resp, err = citizen.Get(ctx, "cases/"+c.ID+"/transcript")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status)
	transcript := string(resp.Body)
	for _, bad := range []string{"\r", "\u2028", "\x00", "\x1b", "\x07", "\u202E"} {
		assert.NotContains(t, transcript, bad)
	}
	for _, line := range strings.Split(transcript, "\n") {
		if strings.Contains(line, "gefälscht") || strings.Contains(line, "abgelehnt") || strings.Contains(line, "Trenner") {
			assert.True(t, strings.HasPrefix(line, "    "), "a continuation line is indented: %q", line)
		}
	}
}
