package main_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	mauas "maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/id"
	_ "modernc.org/sqlite"

	"github.com/rathaus-de/rathaus/internal/devhs"
	"github.com/rathaus-de/rathaus/internal/tesths"
)

// rathausBuild is the binary every test of this package runs, built once
// per test process; TestMain removes it.
var rathausBuild struct {
	once     sync.Once
	dir, bin string
	out      []byte
	err      error
}

// buildRathaus compiles the real binary, as `make build` does, on its
// first call and returns its path.
func buildRathaus(t *testing.T) string {
	t.Helper()
	b := &rathausBuild
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "rathaus-bin-"); b.err != nil {
			return
		}
		b.bin = filepath.Join(b.dir, "rathaus")
		// Not bound to the first caller's context: later tests use it too.
		cmd := exec.CommandContext(context.Background(), "go", "build", "-o", b.bin, "github.com/rathaus-de/rathaus/cmd/rathaus")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		b.out, b.err = cmd.CombinedOutput()
	})
	require.NoError(t, b.err, "go build: %s", b.out)
	return b.bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if rathausBuild.dir != "" {
		_ = os.RemoveAll(rathausBuild.dir)
	}
	os.Exit(code)
}

// rathausProc runs the binary; start may be called again after kill.
type rathausProc struct {
	bin, config, logPath, listen string
	cmd                          *exec.Cmd
	// exited is closed once the process of cmd has exited and been
	// reaped.
	exited chan struct{}
}

func (p *rathausProc) start(t *testing.T) {
	t.Helper()
	logFile, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	require.NoError(t, err)
	// Not bound to the test's context: the cleanup below ends rathaus, and
	// tests kill and restart it on purpose.
	cmd := exec.CommandContext(context.Background(), p.bin, "run", "-c", p.config)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	_ = logFile.Close()
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	p.cmd, p.exited = cmd, exited
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	tesths.WaitFor(t, 60*time.Second, "rathaus to become ready", func() error {
		select {
		case <-exited:
			// Polling on would only reach whatever else listens on its port.
			t.Fatalf("rathaus exited before it was ready (%s); its log:\n%s", cmd.ProcessState, p.log())
		default:
		}
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+p.listen+"/_matrix/mau/ready", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("ready: %d; last lines of its log:\n%s", resp.StatusCode, lastLines(p.log(), 20))
		}
		return nil
	})
}

// kill ends rathaus with SIGKILL and returns once it has exited.
func (p *rathausProc) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.exited
}

func (p *rathausProc) log() string {
	data, _ := os.ReadFile(p.logPath)
	return string(data)
}

// lastLines returns the last n lines of text.
func lastLines(text string, n int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// holdingProxy sits between rathaus and the homeserver. While holding, it
// forwards each send to the homeserver, so the event is created, but never
// returns the response: the exact window in which a crash leaves a send
// done but unconfirmed.
type holdingProxy struct {
	rp      *httputil.ReverseProxy
	hold    atomic.Bool
	stalled atomic.Int32
	release chan struct{}
	// senderPrefix, if set before hold, restricts holding to sends by
	// users (the appservice's user_id parameter) with this prefix. Other
	// sends pass, so a notice the bot happens to send in the same moment is
	// not mistaken for the send under test.
	senderPrefix string
	// pass is how many matching sends still go through before holding
	// starts (see holdAfter).
	pass atomic.Int32
	// held lists the paths of the held sends, for the test's log.
	mu   sync.Mutex
	held []string
}

// holdAfter lets the next n sends through, then holds every further one
// until releaseAll.
func (p *holdingProxy) holdAfter(n int32) {
	p.mu.Lock()
	p.release = make(chan struct{})
	p.mu.Unlock()
	p.pass.Store(n)
	p.stalled.Store(0)
	p.hold.Store(true)
}

func newHoldingProxy(t *testing.T, target string) (*holdingProxy, string) {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	p := &holdingProxy{rp: httputil.NewSingleHostReverseProxy(u), release: make(chan struct{})}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	t.Cleanup(p.releaseAll)
	return p, srv.URL
}

func (p *holdingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.hold.Load() && r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/send/") &&
		strings.HasPrefix(r.URL.Query().Get("user_id"), p.senderPrefix) && p.pass.Add(-1) < 0 {
		p.rp.ServeHTTP(httptest.NewRecorder(), r)
		p.mu.Lock()
		p.held = append(p.held, r.URL.Query().Get("user_id")+" "+r.URL.Path)
		release := p.release
		p.mu.Unlock()
		p.stalled.Add(1)
		select {
		case <-r.Context().Done():
		case <-release:
		}
		return
	}
	p.rp.ServeHTTP(w, r)
}

// heldSends says which sends were held.
func (p *holdingProxy) heldSends() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.held)
}

func (p *holdingProxy) releaseAll() {
	if p.hold.CompareAndSwap(true, false) {
		p.mu.Lock()
		close(p.release)
		p.mu.Unlock()
	}
}

// rathausSetup is a real rathaus binary configured for a real homeserver.
type rathausSetup struct {
	bin, cfgPath, dbPath string
	hs                   *tesths.Homeserver
	proc                 *rathausProc
}

// setupRathaus builds the binary, writes its config (with extra YAML,
// which may use the server name), lets the real CLI generate the
// registration, starts a homeserver of kind with it and points the config
// at homeserverURL(hs.URL) (the URL itself, or a proxy in front of it).
// rathaus is not started.
func setupRathaus(t *testing.T, kind tesths.Kind, extra func(serverName string) string, homeserverURL func(string) string, hsOpts ...func(*tesths.Options)) *rathausSetup {
	t.Helper()
	s := &rathausSetup{bin: buildRathaus(t)}
	dir := t.TempDir()
	// The port stays free while the homeserver starts; it comes from below
	// the kernel's ephemeral range, so no outgoing connection takes it.
	ports, err := devhs.FreePorts(1)
	require.NoError(t, err)
	listen := fmt.Sprintf("127.0.0.1:%d", ports[0])
	s.cfgPath = filepath.Join(dir, "config.yaml")
	s.dbPath = filepath.Join(dir, "rathaus.db")

	opts := tesths.Options{Kind: kind}
	for _, o := range hsOpts {
		o(&opts)
	}
	opts.Appservices = func(serverName string) []*mauas.Registration {
		cfg := fmt.Sprintf(`homeserver:
  url: http://127.0.0.1:1
  server_name: %q
appservice:
  listen: %q
  as_token: generate
  hs_token: generate
database:
  uri: %q
logging:
  level: debug
  format: json
authority:
  name: Stadt Absturzheim
  ags: "09162000"
guest_chat:
  enabled: false
`, serverName, listen, s.dbPath)
		if extra != nil {
			cfg += extra(serverName)
		}
		require.NoError(t, os.WriteFile(s.cfgPath, []byte(cfg), 0o600))
		regPath := filepath.Join(dir, "registration.yaml")
		out, err := exec.CommandContext(t.Context(), s.bin, "generate-registration", "-c", s.cfgPath, "-o", regPath).CombinedOutput()
		require.NoError(t, err, "%s", out)
		reg, err := mauas.LoadRegistration(regPath)
		require.NoError(t, err)
		return []*mauas.Registration{reg}
	}
	s.hs = tesths.Start(t, opts)
	s.editConfig(t, "http://127.0.0.1:1", homeserverURL(s.hs.URL))
	s.proc = &rathausProc{bin: s.bin, config: s.cfgPath, logPath: filepath.Join(dir, "rathaus.log"), listen: listen}
	return s
}

// editConfig replaces text in the config file.
func (s *rathausSetup) editConfig(t *testing.T, old, repl string) {
	t.Helper()
	data, err := os.ReadFile(s.cfgPath)
	require.NoError(t, err)
	require.Contains(t, string(data), old)
	require.NoError(t, os.WriteFile(s.cfgPath, []byte(strings.Replace(string(data), old, repl, 1)), 0o600))
}

// TestKill9LosesNothing: rathaus is killed with SIGKILL while acknowledged
// commands are still waiting in its inbox; after a restart every command is
// answered exactly once. It runs on each homeserver kind, since they
// deduplicate send txn ids and deliver appservice transactions
// differently.
func TestKill9LosesNothing(t *testing.T) {
	eachKind(t, func(t *testing.T, kind tesths.Kind) {
		var proxy *holdingProxy
		setup := setupRathaus(t, kind, nil, func(hsURL string) string {
			p, proxyURL := newHoldingProxy(t, hsURL)
			proxy = p
			return proxyURL
		})
		hs, proc, dbPath := setup.hs, setup.proc, setup.dbPath
		proc.start(t)

		ctx := context.Background()
		alice, _, _ := hs.RegisterUser(t, "alice", false)
		bot := id.NewUserID("rathaus", hs.ServerName)
		var rooms []id.RoomID
		for i := 0; i < 3; i++ {
			room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{bot}})
			require.NoError(t, err)
			rooms = append(rooms, room.RoomID)
		}
		for _, room := range rooms {
			waitJoined(t, alice, room, bot)
		}

		countInbox := inboxCounter(t, dbPath)

		// Stall rathaus's replies (each room's first reply is created on the
		// homeserver but never confirmed), queue commands behind them, and kill
		// rathaus: acknowledged commands are pending, three sends unconfirmed.
		proxy.hold.Store(true)
		var pings []id.EventID
		pingRoom := map[id.EventID]id.RoomID{}
		for i := 0; i < 20; i++ {
			for _, room := range rooms {
				resp, err := alice.SendText(ctx, room, "!rathaus ping")
				require.NoError(t, err)
				pings = append(pings, resp.EventID)
				pingRoom[resp.EventID] = room
			}
		}
		tesths.WaitFor(t, 30*time.Second, "all commands acknowledged and one send per room stalled", func() error {
			// The created replies come back as events too, so count at least.
			if n := countInbox("pending"); n < len(pings) {
				return fmt.Errorf("%d of %d commands pending", n, len(pings))
			}
			if n := proxy.stalled.Load(); n != int32(len(rooms)) {
				return fmt.Errorf("%d sends stalled", n)
			}
			return nil
		})
		proc.kill(t)
		proxy.releaseAll()
		t.Logf("killed rathaus with %d inbox events pending and %d replies created but unconfirmed", countInbox("pending"), proxy.stalled.Load())

		proc.start(t)
		tesths.WaitFor(t, 60*time.Second, "every stored command to be handled after the restart", func() error {
			if n := countInbox("pending"); n > 0 {
				return fmt.Errorf("%d pending", n)
			}
			return nil
		})
		replies := map[id.EventID]int{}
		tesths.WaitFor(t, 60*time.Second, "a reply to every ping", func() error {
			clear(replies)
			for _, room := range rooms {
				got, err := tesths.Replies(ctx, alice, room, bot)
				if err != nil {
					return err
				}
				for to, bodies := range got {
					replies[to] += len(bodies)
				}
			}
			for _, p := range pings {
				if replies[p] == 0 {
					return fmt.Errorf("ping %s in %s has no reply", p, pingRoom[p])
				}
			}
			return nil
		})
		for _, p := range pings {
			if !assert.Equal(t, 1, replies[p], "replies to %s", p) {
				for _, line := range strings.Split(proc.log(), "\n") {
					if strings.Contains(line, string(p)) {
						t.Log(line)
					}
				}
			}
		}
		assert.Zero(t, countInbox("parked"), "no message parked")
		// One reply per ping would hold even if rathaus resent blindly: the
		// proxy let the homeserver finish each held request, so both
		// deduplicate the resend by its txn id (Dendrite remembers a
		// finished request's, Synapse every one until it restarts). The log
		// shows that rathaus looked; TestSynapseRestartBetweenSendAndRetry
		// is where only the look prevents a second reply.
		assert.Equal(t, len(rooms), strings.Count(proc.log(), "Found an unconfirmed send in the room"),
			"each unconfirmed reply was found instead of sent again")
		assert.Empty(t, linesContaining(proc.log(), "Pong"), "message bodies are not logged")
	})
}

// eachKind runs body once per homeserver kind (tesths.Kinds), as subtests
// named by the kind: TestX/dendrite, TestX/synapse.
func eachKind(t *testing.T, body func(t *testing.T, kind tesths.Kind)) {
	t.Helper()
	for _, kind := range tesths.Kinds() {
		t.Run(string(kind), func(t *testing.T) { body(t, kind) })
	}
}

// waitJoined waits until cli sees user joined to room.
func waitJoined(t *testing.T, cli *mautrix.Client, room id.RoomID, user id.UserID) {
	t.Helper()
	tesths.WaitFor(t, 30*time.Second, user.String()+" to join "+room.String(), func() error {
		members, err := cli.JoinedMembers(t.Context(), room)
		if err != nil {
			return err
		}
		if _, ok := members.Joined[user]; !ok {
			return fmt.Errorf("not joined yet")
		}
		return nil
	})
}

// inboxCounter opens rathaus's database read-only and returns a function
// counting its inbox's m.room.message events in a state ("pending",
// "parked", ...).
func inboxCounter(t *testing.T, dbPath string) func(state string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro&_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return func(state string) int {
		var n int
		_ = db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM inbox_event WHERE state = $1 AND event_type = 'm.room.message'`, state).Scan(&n)
		return n
	}
}
