package guestchat_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/internal/app/apptest"
	"github.com/rathaus-de/rathaus/internal/guestclient"
	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/protocol"
)

// afterCaseEnd is the tests' guest_chat.session_after_case_end.
const afterCaseEnd = 3 * time.Second

// TestGuestChatSessionEnds: a session does not outlive what its case
// needs (issue 12, point 5). The citizen's close ends it and clears the
// cookie; "Sitzung beenden" (POST session/end) ends it, with CSRF, and
// leaves the case open; a case staff resolved cuts the session to
// session_after_case_end, cookie included, and it is not renewed.
func TestGuestChatSessionEnds(t *testing.T) {
	apptest.EachHomeserver(t, func(t *testing.T, kind tesths.Kind) {
		ge := startGuestChat(t, kind, func(g *config.GuestChatConfig, _ *config.RetentionConfig) {
			g.SessionAfterCaseEnd = afterCaseEnd
		})
		t.Run("close", func(t *testing.T) { sessionEndsWithClose(t, ge) })
		t.Run("end", func(t *testing.T) { sessionEndsOnRequest(t, ge) })
		t.Run("resolved", func(t *testing.T) { sessionEndsAfterResolved(t, ge) })
	})
}

func sessionEndsWithClose(t *testing.T, ge *guestEnv) {
	t.Helper()
	ctx := context.Background()
	citizen, c := openCase(t, ge, "close-q-0001")
	token := sessionToken(t, citizen)

	csrf := citizen.CSRF
	citizen.CSRF = ""
	resp, err := citizen.Post(ctx, "cases/"+c.ID+"/close", map[string]any{})
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, resp.Status, "closing needs the CSRF token")
	citizen.CSRF = csrf

	resp, err = citizen.Post(ctx, "cases/"+c.ID+"/close", map[string]any{})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	assert.Contains(t, string(resp.Body), `"status":"closed"`, "the page still learns how the case ended")
	assertCookieCleared(t, resp)
	assert.Empty(t, cookieIn(citizen), "the browser forgot the cookie")

	// The old cookie (a copy, a browser that ignored the answer) reads
	// nothing any more.
	for _, path := range []string{"session", "cases/" + c.ID, "cases/" + c.ID + "/transcript", "cases/" + c.ID + "/events"} {
		resp = getWithToken(t, ge, token, path)
		assert.Equal(t, http.StatusUnauthorized, resp.Status, "%s: %s", path, resp.Body)
	}
	resp, err = citizen.Get(ctx, "session")
	require.NoError(t, err)
	assert.JSONEq(t, `{"csrf_token":"","case":null}`, string(resp.Body), "a reload starts over")
	assertStatus(t, ge, c.ID, protocol.CaseClosed)
}

func sessionEndsOnRequest(t *testing.T, ge *guestEnv) {
	t.Helper()
	ctx := context.Background()
	citizen, c := openCase(t, ge, "end-q-00001")
	token := sessionToken(t, citizen)

	// Like every state-changing request: the CSRF token, and only from the
	// page's own origin.
	csrf := citizen.CSRF
	citizen.CSRF = ""
	resp, err := citizen.Post(ctx, "session/end", map[string]any{})
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, resp.Status)
	assert.Equal(t, "csrf", resp.Code())
	citizen.CSRF = csrf
	resp, err = citizen.Do(ctx, http.MethodPost, "session/end", "application/json", []byte(`{}`),
		map[string]string{"Origin": "https://evil.example"})
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, resp.Status)
	assert.Empty(t, resp.Header.Values("Set-Cookie"))
	resp = getWithToken(t, ge, token, "cases/"+c.ID)
	require.Equal(t, http.StatusOK, resp.Status, "refused requests end nothing")

	resp, err = citizen.Post(ctx, "session/end", map[string]any{})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	assert.JSONEq(t, `{"csrf_token":"","case":null}`, string(resp.Body))
	assertCookieCleared(t, resp)
	for _, path := range []string{"session", "cases/" + c.ID, "cases/" + c.ID + "/transcript"} {
		resp = getWithToken(t, ge, token, path)
		assert.Equal(t, http.StatusUnauthorized, resp.Status, "%s: %s", path, resp.Body)
	}
	resp, err = citizen.Post(ctx, "session/end", map[string]any{})
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, resp.Status, "nothing left to end")
	assertStatus(t, ge, c.ID, protocol.CaseQueued)
}

func sessionEndsAfterResolved(t *testing.T, ge *guestEnv) {
	t.Helper()
	ctx := context.Background()
	cc := ge.openClaimedCase(t, "Brauche ich für einen Zaun einen Bauantrag?")
	citizen, c, stored := cc.citizen, cc.c, cc.stored
	token := sessionToken(t, citizen)
	assert.Greater(t, time.Until(sessionExpiry(t, ge, token)), 24*time.Hour, "an open case's session lasts session_lifetime")

	sent, err := ge.anna.Cli.SendText(ctx, stored.RoomID, "!rathaus erledigt")
	require.NoError(t, err)
	assert.Equal(t, c.Reference+": erledigt / resolved", apptest.BotReplyTo(t, ge.anna.Cli, stored.RoomID, ge.Cfg.BotUserID(), sent.EventID))
	_, err = cc.stream.Next(30*time.Second, func(e guestclient.Event) bool { return e.Name == "status" && e.Data["status"] == "resolved" })
	require.NoError(t, err)

	// The citizen still on the page can read the answer and download the
	// conversation, but the session and its cookie now end
	// session_after_case_end after the case.
	resp, err := citizen.Get(ctx, "session")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	m := regexp.MustCompile(`^rathaus_guest=` + regexp.QuoteMeta(token) + `; .*Max-Age=(\d+)`).FindStringSubmatch(resp.Header.Get("Set-Cookie"))
	require.NotNil(t, m, "the cookie is set again with the shorter life: %q", resp.Header.Get("Set-Cookie"))
	maxAge, _ := strconv.Atoi(m[1])
	assert.LessOrEqual(t, maxAge, int(afterCaseEnd.Seconds()))
	ended, err := ge.App.Cases().Case(ctx, protocol.CaseID(c.ID))
	require.NoError(t, err)
	require.Equal(t, protocol.CaseResolved, ended.Status)
	cut := sessionExpiry(t, ge, token)
	assert.WithinDuration(t, ended.UpdatedAt.Add(afterCaseEnd), cut, time.Millisecond, "the session ends session_after_case_end after the case")

	resp, err = citizen.Get(ctx, "cases/"+c.ID+"/transcript")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status)
	assert.Contains(t, string(resp.Body), "] Status: erledigt\n")
	assert.Contains(t, string(resp.Body), "] Ihr Anliegen ist erledigt. Vielen Dank!\n")
	assert.Equal(t, cut, sessionExpiry(t, ge, token), "requests no longer renew the session")

	tesths.WaitFor(t, 10*time.Second, "the session to expire after the case's end", func() error {
		if resp := getWithToken(t, ge, token, "session"); resp.Status != http.StatusUnauthorized {
			return fmt.Errorf("GET session answers %d", resp.Status)
		}
		return nil
	})
	resp = getWithToken(t, ge, token, "cases/"+c.ID+"/transcript")
	assert.Equal(t, http.StatusUnauthorized, resp.Status, "the next person at the computer reads nothing")
}

// openCase opens a case with a new browser session.
func openCase(t *testing.T, ge *guestEnv, txnID string) (*guestclient.Client, *guestclient.Case) {
	t.Helper()
	ctx := context.Background()
	citizen := guestclient.New(ge.base)
	_, err := citizen.StartSession(ctx)
	require.NoError(t, err)
	c, err := citizen.OpenCase(ctx, guestclient.OpenRequest{Department: "bauamt", Question: "Wann hat das Bauamt geöffnet?", TxnID: txnID})
	require.NoError(t, err)
	return citizen, c
}

// cookieIn is the session cookie the client's browser holds, or "".
func cookieIn(cl *guestclient.Client) string {
	u, _ := url.Parse(cl.Base)
	for _, c := range cl.HTTP.Jar.Cookies(u) {
		if c.Name == "rathaus_guest" {
			return c.Value
		}
	}
	return ""
}

func sessionToken(t *testing.T, cl *guestclient.Client) string {
	t.Helper()
	token := cookieIn(cl)
	require.NotEmpty(t, token)
	return token
}

// getWithToken asks with a copy of a session cookie, from another client.
func getWithToken(t *testing.T, ge *guestEnv, token, path string) *guestclient.Response {
	t.Helper()
	resp, err := guestclient.New(ge.base).Do(context.Background(), http.MethodGet, path, "", nil,
		map[string]string{"Cookie": "rathaus_guest=" + token})
	require.NoError(t, err)
	return resp
}

// sessionExpiry is when the session of token expires in the database.
func sessionExpiry(t *testing.T, ge *guestEnv, token string) time.Time {
	t.Helper()
	sum := sha256.Sum256([]byte(token))
	var ms int64
	require.NoError(t, ge.App.Store().DB.QueryRow(context.Background(),
		`SELECT expires_at FROM guest_session WHERE token_hash = $1`, hex.EncodeToString(sum[:])).Scan(&ms))
	return time.UnixMilli(ms)
}

func assertCookieCleared(t *testing.T, resp *guestclient.Response) {
	t.Helper()
	cookie := resp.Header.Get("Set-Cookie")
	assert.Regexp(t, `^rathaus_guest=; `, cookie)
	for _, attr := range []string{"Path=/", "Max-Age=0", "HttpOnly", "SameSite=Strict"} {
		assert.Contains(t, cookie, attr, "the same cookie, expired")
	}
}

func assertStatus(t *testing.T, ge *guestEnv, caseID string, want protocol.CaseStatus) {
	t.Helper()
	got, err := ge.App.Cases().Case(context.Background(), protocol.CaseID(caseID))
	require.NoError(t, err)
	assert.Equal(t, want, got.Status)
}
