package bridge_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	mauas "maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/bridge"
	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/store"
)

// testConfig returns a valid config for a homeserver named serverName.
func testConfig(t *testing.T, serverName, listen, dbPath, extra string) *config.Config {
	t.Helper()
	yml := testConfigYAML(serverName, listen, dbPath) + extra
	cfg, err := config.Parse([]byte(yml))
	require.NoError(t, err)
	return cfg
}

func testConfigYAML(serverName, listen, dbPath string) string {
	return fmt.Sprintf(`
homeserver:
  url: http://127.0.0.1:1
  server_name: %q
appservice:
  listen: %q
  as_token: as-token-for-the-integration-test-000001
  hs_token: hs-token-for-the-integration-test-000001
database:
  type: sqlite
  uri: %q
logging:
  level: debug
authority:
  name: Stadt Prüfheim
  ags: "09162000"
guest_chat:
  enabled: false
`, serverName, listen, dbPath)
}

// rathausEnv is one homeserver with a running rathaus.
type rathausEnv struct {
	hs     *tesths.Homeserver
	cfg    *config.Config
	bridge *bridge.Bridge
	// extra is the YAML appended to the base config by the next reload.
	extra string
	base  string
}

func startRathaus(t *testing.T, servers int) (*rathausEnv, []*tesths.Homeserver) {
	return startRathausWith(t, servers, nil)
}

// startRathausWith starts the homeservers (rathaus registered on one of
// them), lets configure add config YAML (departments need the servers'
// names), and starts rathaus on a free port.
func startRathausWith(t *testing.T, servers int, configure func(hss []*tesths.Homeserver) string) (*rathausEnv, []*tesths.Homeserver) {
	t.Helper()
	return startRathausTweaked(t, servers, configure, nil)
}

// startRathausTweaked is startRathausWith with a last look at the config
// and options before rathaus starts.
func startRathausTweaked(t *testing.T, servers int, configure func(hss []*tesths.Homeserver) string,
	tweak func(cfg *config.Config, opts *bridge.Options)) (*rathausEnv, []*tesths.Homeserver) {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dbPath := filepath.Join(t.TempDir(), "rathaus.db")
	var cfg *config.Config
	var mu sync.Mutex // StartFederated configures the servers in parallel
	hsOpts := tesths.Options{Appservices: func(serverName string) []*mauas.Registration {
		mu.Lock()
		defer mu.Unlock()
		if cfg != nil && cfg.Homeserver.ServerName != serverName {
			return nil // only one homeserver gets rathaus
		}
		cfg = testConfig(t, serverName, listener.Addr().String(), dbPath, "")
		return []*mauas.Registration{cfg.Registration()}
	}}
	var hss []*tesths.Homeserver
	if servers == 1 {
		hss = []*tesths.Homeserver{tesths.Start(t, hsOpts)}
	} else {
		hss = tesths.StartFederated(t, servers, hsOpts)
	}
	var hs *tesths.Homeserver
	for _, h := range hss {
		if h.ServerName == cfg.Homeserver.ServerName {
			hs = h
		}
	}
	require.NotNil(t, hs, "one homeserver carries the rathaus registration")
	env := &rathausEnv{hs: hs, base: testConfigYAML(cfg.Homeserver.ServerName, cfg.AppService.Listen, dbPath)}
	if configure != nil {
		env.extra = configure(hss)
		cfg = testConfig(t, cfg.Homeserver.ServerName, cfg.AppService.Listen, dbPath, env.extra)
	}
	env.base = strings.Replace(env.base, "http://127.0.0.1:1", hs.URL, 1)
	cfg.Homeserver.URL = hs.URL
	metricsListener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg.Metrics.Enabled, cfg.Metrics.Listen = true, metricsListener.Addr().String()
	require.NoError(t, metricsListener.Close())
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
	env.cfg = cfg
	opts := bridge.Options{Config: cfg, Log: log, Listener: listener, LoadConfig: func() (*config.Config, error) {
		next, err := config.Parse([]byte(env.base + env.extra))
		if err != nil {
			return nil, err
		}
		next.Metrics, next.GuestChat = cfg.Metrics, cfg.GuestChat
		return next, nil
	}}
	if tweak != nil {
		tweak(cfg, &opts)
	}
	b, err := bridge.New(opts)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, b.Start(ctx))
	t.Cleanup(b.Stop)
	env.bridge = b
	return env, hss
}

// botReplyTo waits for the bot's reply to eventID, read through the client
// API of the given user.
func botReplyTo(t *testing.T, cli *mautrix.Client, room id.RoomID, bot id.UserID, eventID id.EventID) string {
	t.Helper()
	var body string
	tesths.WaitFor(t, 30*time.Second, "the bot's reply to "+eventID.String(), func() error {
		replies, err := tesths.Replies(context.Background(), cli, room, bot)
		if err != nil {
			return err
		}
		if len(replies[eventID]) == 0 {
			return fmt.Errorf("no reply yet")
		}
		body = replies[eventID][0]
		return nil
	})
	return body
}

// TestBotAgainstDendrite: the bot is registered, creates a room and invites a
// user; the user's message reaches the handler; `!rathaus ping` is answered
// readably through the client API.
func TestBotAgainstDendrite(t *testing.T) {
	env, _ := startRathaus(t, 1)
	ctx := context.Background()
	bot := env.bridge.AppService().BotIntent()

	whoami, err := bot.Whoami(ctx)
	require.NoError(t, err)
	assert.Equal(t, env.cfg.BotUserID(), whoami.UserID)
	name, err := bot.GetOwnDisplayName(ctx)
	require.NoError(t, err)
	assert.Equal(t, env.cfg.AppService.Bot.Displayname, name.DisplayName)

	alice, aliceID, _ := env.hs.RegisterUser(t, "alice", false)
	room, err := bot.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: "Test", Preset: "private_chat", Invite: []id.UserID{aliceID}})
	require.NoError(t, err)
	_, err = alice.JoinRoomByID(ctx, room.RoomID)
	require.NoError(t, err)

	hello, err := alice.SendText(ctx, room.RoomID, "Guten Tag")
	require.NoError(t, err)
	tesths.WaitFor(t, 30*time.Second, "the message to be handled", func() error {
		var state string
		err := env.bridge.Store().DB.QueryRow(ctx, `SELECT state FROM inbox_event WHERE event_id = $1`, hello.EventID).Scan(&state)
		if err != nil {
			return err
		}
		if state != string(store.InboxDone) {
			return fmt.Errorf("state %s", state)
		}
		return nil
	})

	metrics := scrape(t, "http://"+env.cfg.Metrics.Listen+"/metrics")
	for _, name := range []string{
		`rathaus_appservice_transactions_received_total{outcome="stored"}`,
		"rathaus_appservice_events_stored_total",
		"rathaus_appservice_events_processed_total",
		"rathaus_appservice_events_failed_total",
		"rathaus_appservice_inbox_lag_seconds",
		"rathaus_appservice_inbox_pending",
	} {
		assert.Contains(t, metrics, name)
	}

	for cmd, want := range map[string]string{
		"!rathaus ping":                "Pong",
		"!rathaus version":             "rathaus ",
		"!rathaus help":                "!rathaus ping",
		"!rathaus ping\n!rathaus sync": "takes no arguments",
		"!rathaus nonsense":            "Unbekannter Befehl",
	} {
		sent, err := alice.SendText(ctx, room.RoomID, cmd)
		require.NoError(t, err)
		reply := botReplyTo(t, alice, room.RoomID, env.cfg.BotUserID(), sent.EventID)
		assert.Contains(t, reply, want, "reply to %q", cmd)
	}
}

// TestBotInvites: invites from our own server are accepted; the bot can be
// addressed in a room a user created.
func TestBotInvites(t *testing.T) {
	env, _ := startRathaus(t, 1)
	ctx := context.Background()
	bob, _, _ := env.hs.RegisterUser(t, "bob", false)
	room, err := bob.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{env.cfg.BotUserID()}})
	require.NoError(t, err)
	tesths.WaitFor(t, 30*time.Second, "the bot to accept bob's invite", func() error {
		members, err := bob.JoinedMembers(ctx, room.RoomID)
		if err != nil {
			return err
		}
		if _, ok := members.Joined[env.cfg.BotUserID()]; !ok {
			return fmt.Errorf("bot not joined")
		}
		return nil
	})
	sent, err := bob.SendText(ctx, room.RoomID, "!rathaus ping")
	require.NoError(t, err)
	assert.Contains(t, botReplyTo(t, bob, room.RoomID, env.cfg.BotUserID(), sent.EventID), "Pong")
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(data)
}

// pushTransaction sends a transaction to rathaus as the homeserver would.
func pushTransaction(t *testing.T, env *rathausEnv, body string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, "http://"+env.cfg.AppService.Listen+"/_matrix/app/v1/transactions/test-"+fmt.Sprint(time.Now().UnixNano()), strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+env.cfg.AppService.HSToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestFederationSmoke: a user on a second Dendrite joins a room the bot
// created on the first and exchanges messages with it; an invite for the bot
// from the remote server is declined.
func TestFederationSmoke(t *testing.T) {
	env, hss := startRathaus(t, 2)
	ctx := context.Background()
	var remote *tesths.Homeserver
	for _, h := range hss {
		if h != env.hs {
			remote = h
		}
	}
	carol, carolID, _ := remote.RegisterUser(t, "carol", false)
	bot := env.bridge.AppService().BotIntent()
	room, err := bot.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: "Regionalraum", Preset: "private_chat", Invite: []id.UserID{carolID}})
	require.NoError(t, err)
	tesths.WaitFor(t, 60*time.Second, "carol to join over federation", func() error {
		_, err := carol.JoinRoom(ctx, room.RoomID.String(), &mautrix.ReqJoinRoom{Via: []string{env.hs.ServerName}})
		return err
	})
	sent, err := carol.SendText(ctx, room.RoomID, "!rathaus ping")
	require.NoError(t, err)
	assert.Contains(t, botReplyTo(t, carol, room.RoomID, env.cfg.BotUserID(), sent.EventID), "Pong")

	// A remote user's invite is declined.
	other, err := carol.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{env.cfg.BotUserID()}})
	require.NoError(t, err)
	// NOTSPEC: Dendrite v0.15.2 never pushes invites that arrive over
	// federation to appservices (its consumer skips OutputTypeNewInviteEvent);
	// Synapse does. The test delivers the invite as Synapse would, so the
	// refusal itself still runs for real through both homeservers.
	var invite event.MemberEventContent
	require.NoError(t, carol.StateEvent(ctx, other.RoomID, event.StateMember, env.cfg.BotUserID().String(), &invite))
	require.Equal(t, event.MembershipInvite, invite.Membership)
	pushTransaction(t, env, fmt.Sprintf(`{"events":[{"type":"m.room.member","state_key":%q,"sender":%q,"room_id":%q,`+
		`"event_id":"$federated-invite","origin_server_ts":1,"content":{"membership":"invite"}}]}`,
		env.cfg.BotUserID(), carolID, other.RoomID))
	tesths.WaitFor(t, 60*time.Second, "the bot to decline carol's invite", func() error {
		var m event.MemberEventContent
		if err := carol.StateEvent(ctx, other.RoomID, event.StateMember, env.cfg.BotUserID().String(), &m); err != nil {
			return err
		}
		// The reason we send is not checked: Dendrite's remote invite
		// rejection (make_leave/send_leave) does not carry it over.
		if m.Membership != event.MembershipLeave {
			return fmt.Errorf("bot membership is %s", m.Membership)
		}
		return nil
	})
}
