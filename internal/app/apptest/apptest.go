// Package apptest starts a whole rathaus (internal/app) against real
// homeservers, Dendrite or Synapse (internal/tesths), for the integration
// tests of the capabilities: every test gets its own homeservers, database
// and ports. EachHomeserver runs a test body once per homeserver kind. It
// is imported by tests only.
package apptest

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
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	mauas "maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/internal/app"
	"github.com/rathaus-de/rathaus/internal/tesths"
)

// Env is one homeserver with a running rathaus.
type Env struct {
	// HS is the homeserver rathaus is registered with.
	HS *tesths.Homeserver
	// Cfg is the config rathaus started with.
	Cfg *config.Config
	App *app.App
	// Extra is the YAML appended to the base config by the next reload
	// (SIGHUP, `!rathaus sync`); tests change it to change the config.
	Extra string
	base  string
	logs  *logBuffer
}

// Log returns what rathaus has logged so far (JSON lines, info and up).
func (e *Env) Log() string { return e.logs.String() }

// logBuffer keeps rathaus's log for tests that check what an operator
// would read.
type logBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// StaffUser is a homeserver user a test acts as.
type StaffUser struct {
	Cli *mautrix.Client
	ID  id.UserID
}

// testConfig returns a valid config for a homeserver named serverName, with
// extra YAML appended.
func testConfig(t *testing.T, serverName, listen, dbPath, extra string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(configYAML(serverName, listen, dbPath) + extra))
	require.NoError(t, err)
	return cfg
}

func configYAML(serverName, listen, dbPath string) string {
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

// Options choose the homeservers and the config of Launch.
type Options struct {
	// Homeservers are the kinds of the homeservers to start, federating
	// with each other; rathaus is registered on the first. Default: one
	// Dendrite.
	Homeservers []tesths.Kind
	// RoomVersion is the version of rooms created without one, on every
	// homeserver. Default: tesths.DefaultRoomVersion.
	RoomVersion string
	// Configure, if set, returns config YAML to append to the base config
	// (departments need the servers' names); it may register users.
	Configure func(hss []*tesths.Homeserver) string
	// Tweak, if set, has a last look at the config and the options before
	// rathaus starts.
	Tweak func(cfg *config.Config, opts *app.Options)
}

// StartOn is Start with homeservers of the given kind.
func StartOn(t *testing.T, kind tesths.Kind, servers int) (*Env, []*tesths.Homeserver) {
	t.Helper()
	return Launch(t, Options{Homeservers: Homeservers(kind, servers)})
}

// Homeservers returns n times kind, for Options.Homeservers.
func Homeservers(kind tesths.Kind, n int) []tesths.Kind {
	kinds := make([]tesths.Kind, n)
	for i := range kinds {
		kinds[i] = kind
	}
	return kinds
}

// EachHomeserver runs body once per homeserver kind (tesths.Kinds), as
// subtests named by the kind: TestX/dendrite, TestX/synapse. They run one
// after the other; `go test -run 'TestX/synapse'` picks one.
func EachHomeserver(t *testing.T, body func(t *testing.T, kind tesths.Kind)) {
	t.Helper()
	for _, kind := range tesths.Kinds() {
		t.Run(string(kind), func(t *testing.T) { body(t, kind) })
	}
}

// Launch starts the homeservers of opts, rathaus registered on the first,
// and rathaus on a free port.
func Launch(t *testing.T, opts Options) (*Env, []*tesths.Homeserver) {
	t.Helper()
	env, hss, err := LaunchErr(t, opts)
	require.NoError(t, err)
	return env, hss
}

// LaunchErr is Launch for tests about a failing start: it returns the
// error of app.Start instead of failing the test (env.App is then nil).
func LaunchErr(t *testing.T, opts Options) (*Env, []*tesths.Homeserver, error) {
	t.Helper()
	kinds := opts.Homeservers
	if len(kinds) == 0 {
		kinds = []tesths.Kind{tesths.Dendrite}
	}
	listener, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dbPath := filepath.Join(t.TempDir(), "rathaus.db")
	var cfg *config.Config
	var mu sync.Mutex // the homeservers start in parallel
	hsOpts := make([]tesths.Options, len(kinds))
	for i, kind := range kinds {
		hsOpts[i] = tesths.Options{Kind: kind, RoomVersion: opts.RoomVersion}
	}
	// Called again with a new name if the start is retried on other ports.
	hsOpts[0].Appservices = func(serverName string) []*mauas.Registration {
		mu.Lock()
		defer mu.Unlock()
		cfg = testConfig(t, serverName, listener.Addr().String(), dbPath, "")
		return []*mauas.Registration{cfg.Registration()}
	}
	hss := tesths.StartMixed(t, hsOpts...)
	hs := hss[0]
	require.Equal(t, hs.ServerName, cfg.Homeserver.ServerName, "the first homeserver carries the rathaus registration")
	env := &Env{HS: hs, base: configYAML(cfg.Homeserver.ServerName, cfg.AppService.Listen, dbPath)}
	if opts.Configure != nil {
		env.Extra = opts.Configure(hss)
		cfg = testConfig(t, cfg.Homeserver.ServerName, cfg.AppService.Listen, dbPath, env.Extra)
	}
	env.base = strings.Replace(env.base, "http://127.0.0.1:1", hs.URL, 1)
	cfg.Homeserver.URL = hs.URL
	metricsListener, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg.Metrics.Enabled, cfg.Metrics.Listen = true, metricsListener.Addr().String()
	require.NoError(t, metricsListener.Close())
	env.logs = &logBuffer{}
	log := zerolog.New(zerolog.MultiLevelWriter(zerolog.NewTestWriter(t), env.logs)).Level(zerolog.InfoLevel)
	env.Cfg = cfg
	appOpts := app.Options{Config: cfg, Log: log, Listener: listener, LoadConfig: func() (*config.Config, error) {
		next, err := config.Parse([]byte(env.base + env.Extra))
		if err != nil {
			return nil, err
		}
		next.Metrics, next.GuestChat = cfg.Metrics, cfg.GuestChat
		return next, nil
	}}
	if opts.Tweak != nil {
		opts.Tweak(cfg, &appOpts)
	}
	a, err := app.New(appOpts)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err = a.Start(ctx); err != nil {
		return env, hss, err
	}
	t.Cleanup(a.Stop)
	env.App = a
	return env, hss, nil
}

// RoomWithBot has cli create a private room, invite the bot and waits until
// the bot has joined.
func (e *Env) RoomWithBot(t *testing.T, cli *mautrix.Client) id.RoomID {
	t.Helper()
	bot := e.Cfg.BotUserID()
	room, err := cli.CreateRoom(t.Context(), &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{bot}})
	require.NoError(t, err)
	tesths.WaitFor(t, 60*time.Second, "the bot to join", func() error {
		members, err := cli.JoinedMembers(t.Context(), room.RoomID)
		if err != nil {
			return err
		} else if _, ok := members.Joined[bot]; !ok {
			return fmt.Errorf("not joined yet")
		}
		return nil
	})
	return room.RoomID
}

// BotReplyTo waits for the bot's reply to eventID, read through the client
// API of the given user.
func BotReplyTo(t *testing.T, cli *mautrix.Client, room id.RoomID, bot id.UserID, eventID id.EventID) string {
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

// Scrape reads a Prometheus endpoint.
func Scrape(t *testing.T, url string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(data)
}

// PushTransaction sends a transaction to rathaus as the homeserver would.
func (e *Env) PushTransaction(t *testing.T, body string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPut,
		"http://"+e.Cfg.AppService.Listen+"/_matrix/app/v1/transactions/test-"+fmt.Sprint(time.Now().UnixNano()), strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+e.Cfg.AppService.HSToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// Member is a staff member of the test department: a user registered on
// the homeserver as Name, with Role and further YAML keys of the staff
// entry in Extra (e.g. "max_cases: 1").
type Member struct {
	Name, Role, Extra string
}

// StartDepartmentOn starts rathaus on one homeserver of the given kind with
// one department, the Bauamt (id bauamt), whose staff are the members, each
// registered on the homeserver; extra is YAML that follows the department
// (e.g. a retention section). It returns the members by name.
func StartDepartmentOn(t *testing.T, kind tesths.Kind, members []Member, extra string) (*Env, map[string]StaffUser) {
	t.Helper()
	return StartDepartmentIn(t, Options{Homeservers: []tesths.Kind{kind}}, members, extra)
}

// StartDepartmentIn is StartDepartmentOn with the homeservers and room
// version of opts (its Configure is replaced).
func StartDepartmentIn(t *testing.T, opts Options, members []Member, extra string) (*Env, map[string]StaffUser) {
	t.Helper()
	users := map[string]StaffUser{}
	opts.Configure = func(hss []*tesths.Homeserver) string {
		yml := "departments:\n  - id: bauamt\n    name: Bauamt\n    staff:\n"
		for _, m := range members {
			cli, uid, _ := hss[0].RegisterUser(t, m.Name, false)
			users[m.Name] = StaffUser{Cli: cli, ID: uid}
			yml += fmt.Sprintf("      - user: %q\n        role: %s\n", uid, m.Role)
			if m.Extra != "" {
				yml += "        " + m.Extra + "\n"
			}
		}
		return yml + extra
	}
	env, _ := Launch(t, opts)
	return env, users
}

// Variant is a homeserver kind with the room version its new rooms get.
type Variant struct {
	Kind        tesths.Kind
	RoomVersion string
}

// Name is the subtest name: the kind, and the room version if it is not
// the default.
func (v Variant) Name() string {
	if v.RoomVersion == "" || v.RoomVersion == tesths.DefaultRoomVersion {
		return string(v.Kind)
	}
	return string(v.Kind) + "-v" + v.RoomVersion
}

// RoomVersionOrDefault is the room version new rooms get.
func (v Variant) RoomVersionOrDefault() string {
	if v.RoomVersion == "" {
		return tesths.DefaultRoomVersion
	}
	return v.RoomVersion
}

// Options are the launch options of one homeserver of this variant.
func (v Variant) Options() Options {
	return Options{Homeservers: []tesths.Kind{v.Kind}, RoomVersion: v.RoomVersion}
}

// EachVariant runs body once per homeserver kind at the default room
// version and once on Synapse with room version 12, where a room's
// creators have unlimited power and stay out of the power levels (Dendrite
// v0.15.2 has no version 12): TestX/dendrite, TestX/synapse,
// TestX/synapse-v12.
func EachVariant(t *testing.T, body func(t *testing.T, v Variant)) {
	t.Helper()
	for _, v := range []Variant{{Kind: tesths.Dendrite}, {Kind: tesths.Synapse}, {Kind: tesths.Synapse, RoomVersion: "12"}} {
		t.Run(v.Name(), func(t *testing.T) { body(t, v) })
	}
}
