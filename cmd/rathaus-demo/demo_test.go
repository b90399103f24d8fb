package main_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/internal/devhs"
	"github.com/rathaus-de/rathaus/internal/guestclient"
	"github.com/rathaus-de/rathaus/internal/tesths"
)

const (
	// On a fresh checkout `make run` first builds Dendrite, which takes
	// minutes on two cores.
	makeReadyTimeout = 20 * time.Minute
	demoReadyTimeout = 3 * time.Minute
	botTimeout       = 60 * time.Second
	stopTimeout      = 60 * time.Second
)

// TestMakeRun proves that `make run` works on a checkout: it builds what it
// needs, starts Dendrite and rathaus, prints a login that works, and the bot
// answers, in a room of the user's own and in the Bauamt staff room, to
// which rathaus invited the login as staff of the example departments.
// The printed citizen chat URL leads to rathaus's guest chat: its API
// knows the department, and a case a citizen opens there is announced in
// the Bauamt staff room. Ctrl-C (SIGINT to the process group) stops
// everything. A second run on the same directory (the demo binary
// directly, as make would start it) reuses the account, its password, the
// room and the chat port, where the citizen's session still has its case,
// and exits 0.
func TestMakeRun(t *testing.T) {
	root := repoRoot(t)
	_, err := exec.LookPath("make")
	require.NoError(t, err, "make is needed for `make run`")
	dir := t.TempDir()
	ports, err := devhs.FreePorts(4)
	require.NoError(t, err)
	env := demoEnv(dir, ports)

	// First run: through make, from the repository root.
	first := startDemo(t, root, env, "make", "--no-print-directory", "run")
	ready := first.waitReady(t, makeReadyTimeout)
	assert.Equal(t, fmt.Sprintf("http://127.0.0.1:%d", ports[0]), ready["homeserver"])
	assert.Equal(t, fmt.Sprintf("localhost:%d", ports[1]), ready["server_name"])
	serverName := ready["server_name"]
	assert.Equal(t, "@sachbearbeiterin:"+serverName, ready["user"])
	assert.Equal(t, "@rathaus:"+serverName, ready["bot"])
	require.Equal(t, filepath.Join(dir, "sachbearbeiterin.password"), ready["password_file"])
	password := readPassword(t, ready)
	assert.NotContains(t, first.output(), password, "the password stays in its file, out of shared logs")
	first.assertOutput(t, "Ctrl-C stops everything", "!rathaus help", ready["homeserver"])

	staff := login(t, ready)
	bot := id.UserID(ready["bot"])
	room, err := staff.CreateRoom(t.Context(), &mautrix.ReqCreateRoom{
		Preset: "private_chat",
		Name:   "Demo",
		Invite: []id.UserID{bot},
	})
	require.NoError(t, err)
	tesths.WaitFor(t, botTimeout, "the bot to accept the invite", func() error {
		return isMember(t, staff, room.RoomID, bot)
	})
	pingAndWaitForPong(t, staff, room.RoomID, bot)

	// rathaus invited the printed login, an admin of both example
	// departments, to the authority space and the department rooms as it
	// started: the demo created the staff accounts first.
	authoritySpace := resolveAlias(t, staff, "#_rathaus_space:"+serverName)
	bauamtSpace := resolveAlias(t, staff, "#_rathaus_bauamt_space:"+serverName)
	bauamt := resolveAlias(t, staff, "#_rathaus_bauamt:"+serverName)
	tesths.WaitFor(t, botTimeout, "the invitations to the authority space and the Bauamt rooms", func() error {
		return invitedOrJoined(t, staff, authoritySpace, bauamtSpace, bauamt)
	})
	_, err = staff.JoinRoomByID(t.Context(), bauamt)
	require.NoError(t, err, "joining the Bauamt staff room")
	reply := askAndWaitForReply(t, staff, bauamt, bot, "!rathaus departments", "Bauamt", "Bürgerbüro")
	t.Logf("the bot's answer to !rathaus departments:\n%s", reply)
	// The printed login is an admin: it may converge the rooms to the config.
	reply = askAndWaitForReply(t, staff, bauamt, bot, "!rathaus sync", "sync done")
	assert.NotContains(t, reply, "Fehler", "the sync reports no failures")
	// The printed steps name the staff room as clients show it.
	var name event.RoomNameEventContent
	require.NoError(t, staff.StateEvent(t.Context(), bauamt, event.StateRoomName, "", &name))
	first.assertOutput(t, `"`+name.Name+`"`, "!rathaus departments", "!rathaus status verfügbar")

	// Be the citizen the announcement asks for, at the printed URL.
	chatURL := printedChatURL(t, first, "bauamt")
	assert.Equal(t, fmt.Sprintf("http://127.0.0.1:%d/chat/bauamt", ports[3]), chatURL)
	first.assertOutput(t, fmt.Sprintf("http://127.0.0.1:%d/chat/buergerbuero", ports[3]), "!rathaus claim <Aktenzeichen>")
	citizen, ref := openCitizenCase(t, chatURL, "bauamt", "Bauamt")
	tesths.WaitFor(t, botTimeout, "the announcement of "+ref+" in the Bauamt staff room", func() error {
		return botNoticeIn(t, staff, bauamt, bot, "Neuer Fall "+ref)
	})

	// Ctrl-C in a terminal reaches make and the demo, which is what this is.
	first.interrupt(t)
	state := first.wait(t, stopTimeout)
	first.assertOutput(t, "DEMO STOPPED exit=0")
	// GNU make waits for the demo, then dies of the SIGINT it received
	// itself: its own status cannot be 0. The demo's is, as the line above
	// and the second run below show.
	assert.True(t, state.Success() || signalled(state, syscall.SIGINT), "make ended with %v", state)
	assert.NotContains(t, first.output(), "make: ***", "make reports no failed recipe")
	assertGone(t, dir, ready)

	// Second run on the same directory.
	second := startDemo(t, root, env, filepath.Join(root, "bin", "rathaus-demo"),
		"-rathaus", filepath.Join(root, "bin", "rathaus"), "-dendrite", filepath.Join(root, ".cache", "bin", "dendrite"))
	again := second.waitReady(t, demoReadyTimeout)
	assert.Equal(t, ready["user"], again["user"])
	assert.Equal(t, password, readPassword(t, again), "the password is kept in the demo directory")
	assert.NotContains(t, second.output(), password, "the password stays in its file, out of shared logs")
	assert.NotContains(t, second.output(), "Wrote the rathaus config", "the config is written on the first run only")
	assert.NotContains(t, second.output(), "Upgraded", "the config written by this demo needs no upgrade")
	staff = login(t, again)
	pingAndWaitForPong(t, staff, room.RoomID, bot)
	assert.Equal(t, chatURL, printedChatURL(t, second, "bauamt"), "the chat port is kept in the demo directory")
	resumed, err := citizen.Resume(t.Context())
	require.NoError(t, err, "the citizen's session survives the restart")
	require.NotNil(t, resumed, "the session still has its case")
	assert.Equal(t, ref, resumed.Reference)

	second.interrupt(t)
	state = second.wait(t, stopTimeout)
	second.assertOutput(t, "DEMO STOPPED exit=0")
	assert.True(t, state.Success(), "the demo exits 0 on SIGINT, got %v", state)
	assertGone(t, dir, again)

	// Third run: the calls on LiveKit (make run VIDEO=livekit), rathaus
	// the MatrixRTC authorization service; config.yaml stays as it was.
	third := startDemo(t, root, env, "make", "--no-print-directory", "run", "VIDEO=livekit")
	lk := third.waitReady(t, makeReadyTimeout)
	third.assertOutput(t, "Calls run on LiveKit at ws://127.0.0.1:")
	base := strings.TrimSuffix(chatURL, "/chat/bauamt")
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/matrixrtc/healthz", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the MatrixRTC service answers")
	lkConfig, err := os.ReadFile(filepath.Join(dir, "config.livekit.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(lkConfig), "backend: livekit")
	mainConfig, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	require.NoError(t, err)
	assert.NotContains(t, string(mainConfig), "backend: livekit", "config.yaml keeps the embedded server")
	third.interrupt(t)
	third.wait(t, stopTimeout)
	third.assertOutput(t, "DEMO STOPPED exit=0")
	assertGone(t, dir, lk)
}

// repoRoot is the module root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "Makefile"))
	require.NoError(t, err, "the Makefile must be at the repository root")
	return root
}

// demoEnv is the environment of the demo: ours without anything that would
// change what make or the demo do, plus the directory and the ports.
func demoEnv(dir string, ports []int) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "MAKEFLAGS", name == "MFLAGS", name == "MAKELEVEL", name == "MAKEOVERRIDES",
			strings.HasPrefix(name, "RATHAUS_DEMO_"), name == "RATHAUS_DENDRITE_BIN":
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"RATHAUS_DEMO_DIR="+dir,
		"RATHAUS_DEMO_HS_PORT="+strconv.Itoa(ports[0]),
		"RATHAUS_DEMO_FED_PORT="+strconv.Itoa(ports[1]),
		"RATHAUS_DEMO_AS_PORT="+strconv.Itoa(ports[2]),
		"RATHAUS_DEMO_CHAT_PORT="+strconv.Itoa(ports[3]),
	)
}

// demoProcess is make or the demo, in a process group of its own, with its
// output collected line by line.
type demoProcess struct {
	cmd   *exec.Cmd
	ready chan map[string]string
	done  chan struct{} // closed after the output ended and Wait returned

	mu    sync.Mutex
	lines []string
}

func startDemo(t *testing.T, dir string, env []string, name string, args ...string) *demoProcess {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	// Not bound to the test's context: the cleanup below kills the demo's
	// whole process group, where a cancelled context would kill only the
	// demo itself.
	cmd := exec.CommandContext(context.Background(), name, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = w
	cmd.Stderr = w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	w.Close()
	p := &demoProcess{cmd: cmd, ready: make(chan map[string]string, 1), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.lines = append(p.lines, line)
			p.mu.Unlock()
			if fields, ok := parseReady(line); ok {
				p.ready <- fields
			}
		}
		r.Close()
		_ = cmd.Wait()
	}()
	t.Cleanup(func() {
		if !p.exited() {
			// A failed test must not leave the demo behind; its children
			// die with it (parent-death signal).
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() {
			t.Logf("output of %s:\n%s", name, p.tail(150))
		}
	})
	return p
}

// parseReady parses "DEMO READY key=value … password_file=<path>"; the
// path is last and may contain spaces.
func parseReady(line string) (map[string]string, bool) {
	rest, ok := strings.CutPrefix(line, "DEMO READY ")
	if !ok {
		return nil, false
	}
	fields := map[string]string{}
	if before, path, ok := strings.Cut(rest, " password_file="); ok {
		rest, fields["password_file"] = before, path
	}
	for _, f := range strings.Fields(rest) {
		if k, v, ok := strings.Cut(f, "="); ok {
			fields[k] = v
		}
	}
	return fields, true
}

func (p *demoProcess) waitReady(t *testing.T, timeout time.Duration) map[string]string {
	t.Helper()
	select {
	case fields := <-p.ready:
		return fields
	case <-p.done:
		t.Fatalf("%s exited (%v) before DEMO READY", p.cmd.Path, p.cmd.ProcessState)
	case <-time.After(timeout):
		t.Fatalf("no DEMO READY within %s", timeout)
	}
	return nil
}

func (p *demoProcess) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// interrupt sends SIGINT to the process group, as Ctrl-C in a terminal does.
func (p *demoProcess) interrupt(t *testing.T) {
	t.Helper()
	require.NoError(t, syscall.Kill(-p.cmd.Process.Pid, syscall.SIGINT))
}

func (p *demoProcess) wait(t *testing.T, timeout time.Duration) *os.ProcessState {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState
	case <-time.After(timeout):
		t.Fatalf("%s did not exit within %s of SIGINT", p.cmd.Path, timeout)
	}
	return nil
}

func (p *demoProcess) output() string { return p.tail(0) }

// tail returns the last n lines of output, or all if n is 0.
func (p *demoProcess) tail(n int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	lines := p.lines
	if n > 0 && len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (p *demoProcess) assertOutput(t *testing.T, want ...string) {
	t.Helper()
	out := p.output()
	for _, w := range want {
		assert.Contains(t, out, w)
	}
}

func signalled(state *os.ProcessState, sig syscall.Signal) bool {
	ws, ok := state.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

// readPassword reads the staff login's password from the file DEMO READY
// names, as a person told "show it with: cat …" would.
func readPassword(t *testing.T, ready map[string]string) string {
	t.Helper()
	data, err := os.ReadFile(ready["password_file"])
	require.NoError(t, err, "the password file DEMO READY names")
	password := strings.TrimSpace(string(data))
	require.NotEmpty(t, password)
	return password
}

// login logs in with the printed user and the password from its file, as a
// person would.
func login(t *testing.T, ready map[string]string) *mautrix.Client {
	t.Helper()
	cli, err := mautrix.NewClient(ready["homeserver"], "", "")
	require.NoError(t, err)
	resp, err := cli.Login(t.Context(), &mautrix.ReqLogin{
		Type:             mautrix.AuthTypePassword,
		Identifier:       mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: ready["user"]},
		Password:         readPassword(t, ready),
		StoreCredentials: true,
	})
	require.NoError(t, err, "the printed login must work")
	require.Equal(t, id.UserID(ready["user"]), resp.UserID)
	return cli
}

func isMember(t *testing.T, cli *mautrix.Client, room id.RoomID, user id.UserID) error {
	t.Helper()
	resp, err := cli.JoinedMembers(t.Context(), room)
	if err != nil {
		return fmt.Errorf("failed to get members: %w", err)
	}
	if _, ok := resp.Joined[user]; !ok {
		return fmt.Errorf("%d members, not %s", len(resp.Joined), user)
	}
	return nil
}

// pingAndWaitForPong sends `!rathaus ping` and waits for the bot's notice
// with "Pong" after it.
func pingAndWaitForPong(t *testing.T, cli *mautrix.Client, room id.RoomID, bot id.UserID) {
	t.Helper()
	sent, err := cli.SendText(t.Context(), room, "!rathaus ping")
	require.NoError(t, err)
	tesths.WaitFor(t, botTimeout, "the bot's Pong after "+sent.EventID.String(), func() error {
		return pongAfter(t, cli, room, bot, sent.EventID)
	})
}

// pongAfter looks through the latest events, newest first, for the bot's
// Pong notice before it reaches the ping.
func pongAfter(t *testing.T, cli *mautrix.Client, room id.RoomID, bot id.UserID, ping id.EventID) error {
	t.Helper()
	resp, err := cli.Messages(t.Context(), room, "", "", mautrix.DirectionBackward, nil, 50)
	if err != nil {
		return fmt.Errorf("failed to get messages: %w", err)
	}
	for _, evt := range resp.Chunk {
		if evt.ID == ping {
			return errors.New("no Pong after the ping yet")
		}
		if evt.Sender != bot || evt.Type != event.EventMessage {
			continue
		}
		if err := evt.Content.ParseRaw(evt.Type); err != nil {
			return fmt.Errorf("failed to parse %s: %w", evt.ID, err)
		}
		if msg := evt.Content.AsMessage(); msg.MsgType == event.MsgNotice && strings.Contains(msg.Body, "Pong") {
			return nil
		}
	}
	return fmt.Errorf("the ping is not among the %d latest events", len(resp.Chunk))
}

// resolveAlias resolves a room alias through the client API, as a client
// does when the user opens #alias.
func resolveAlias(t *testing.T, cli *mautrix.Client, alias string) id.RoomID {
	t.Helper()
	resp, err := cli.ResolveAlias(t.Context(), id.RoomAlias(alias))
	require.NoError(t, err, "resolving %s", alias)
	return resp.RoomID
}

// invitedOrJoined reports whether cli's user is invited to or joined in
// every room, as its next sync shows.
func invitedOrJoined(t *testing.T, cli *mautrix.Client, rooms ...id.RoomID) error {
	t.Helper()
	resp, err := cli.SyncRequest(t.Context(), 0, "", "", false, event.PresenceOffline)
	if err != nil {
		return fmt.Errorf("failed to sync: %w", err)
	}
	for _, room := range rooms {
		_, invited := resp.Rooms.Invite[room]
		_, joined := resp.Rooms.Join[room]
		if !invited && !joined {
			return fmt.Errorf("neither invited to nor joined in %s (%d invites, %d joined rooms)",
				room, len(resp.Rooms.Invite), len(resp.Rooms.Join))
		}
	}
	return nil
}

// printedChatURL is the citizen chat URL the demo printed for a department,
// on a line of its own after the department's name.
func printedChatURL(t *testing.T, p *demoProcess, department string) string {
	t.Helper()
	re := regexp.MustCompile(`(?m)\s(http://\S+/chat/` + regexp.QuoteMeta(department) + `)$`)
	m := re.FindStringSubmatch(p.output())
	require.NotNil(t, m, "no chat URL for %s in the output", department)
	return m[1]
}

// openCitizenCase does what the chat page does for a citizen at chatURL:
// it asks the API about the department, then opens a case with the proof of
// work. It returns the citizen's session and the case's reference.
func openCitizenCase(t *testing.T, chatURL, department, name string) (*guestclient.Client, string) {
	t.Helper()
	base, ok := strings.CutSuffix(chatURL, "/chat/"+department)
	require.True(t, ok, "%s is not a chat page", chatURL)
	citizen := guestclient.New(base)

	resp, err := citizen.Get(t.Context(), "info?department="+url.QueryEscape(department))
	require.NoError(t, err, "the guest chat API answers at the printed URL")
	require.Equal(t, http.StatusOK, resp.Status, "GET info: %s", resp.Body)
	var info struct {
		Department struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"department"`
	}
	require.NoError(t, resp.JSON(&info))
	assert.Equal(t, department, info.Department.ID)
	assert.Equal(t, name, info.Department.Name)

	_, err = citizen.StartSession(t.Context())
	require.NoError(t, err)
	start := time.Now()
	c, err := citizen.OpenCase(t.Context(), guestclient.OpenRequest{
		Department: department,
		Question:   "Brauche ich für einen Gartenzaun von 1,20 m eine Baugenehmigung?",
		TxnID:      "make-run-1",
	})
	require.NoError(t, err, "opening a case with the proof of work")
	t.Logf("the citizen opened %s in %s (proof of work included)", c.Reference, time.Since(start).Round(time.Millisecond))
	assert.Equal(t, department, c.Department.ID)
	assert.True(t, c.Open)
	require.NotEmpty(t, c.Reference)
	return citizen, c.Reference
}

// botNoticeIn looks through the latest events of a room for a notice of the
// bot that contains want.
func botNoticeIn(t *testing.T, cli *mautrix.Client, room id.RoomID, bot id.UserID, want string) error {
	t.Helper()
	resp, err := cli.Messages(t.Context(), room, "", "", mautrix.DirectionBackward, nil, 50)
	if err != nil {
		return fmt.Errorf("failed to get messages: %w", err)
	}
	for _, evt := range resp.Chunk {
		if evt.Sender != bot || evt.Type != event.EventMessage {
			continue
		}
		if err := evt.Content.ParseRaw(evt.Type); err != nil {
			return fmt.Errorf("failed to parse %s: %w", evt.ID, err)
		}
		if msg := evt.Content.AsMessage(); msg.MsgType == event.MsgNotice && strings.Contains(msg.Body, want) {
			return nil
		}
	}
	return fmt.Errorf("no notice of %s with %q among the %d latest events", bot, want, len(resp.Chunk))
}

// askAndWaitForReply sends a command and waits for the bot's reply to it
// that mentions every one of want; it returns the reply.
func askAndWaitForReply(t *testing.T, cli *mautrix.Client, room id.RoomID, bot id.UserID, command string, want ...string) string {
	t.Helper()
	sent, err := cli.SendText(t.Context(), room, command)
	require.NoError(t, err)
	var answer string
	tesths.WaitFor(t, botTimeout, fmt.Sprintf("the bot's reply to %q mentioning %q", command, want), func() error {
		replies, err := tesths.Replies(t.Context(), cli, room, bot)
		if err != nil {
			return fmt.Errorf("failed to read the room: %w", err)
		}
		bodies := replies[sent.EventID]
		if len(bodies) == 0 {
			return errors.New("no reply yet")
		}
		for _, body := range bodies {
			missing := ""
			for _, w := range want {
				if !strings.Contains(body, w) {
					missing = w
					break
				}
			}
			if missing == "" {
				answer = body
				return nil
			}
		}
		return fmt.Errorf("the replies %q do not mention all of %q", bodies, want)
	})
	return answer
}

// assertGone checks that Dendrite and rathaus of one run have exited and
// that no process works on the demo directory any more.
func assertGone(t *testing.T, dir string, ready map[string]string) {
	t.Helper()
	for _, key := range []string{"dendrite_pid", "rathaus_pid"} {
		pid, err := strconv.Atoi(ready[key])
		require.NoError(t, err, "%s in DEMO READY", key)
		err = syscall.Kill(pid, 0)
		assert.ErrorIs(t, err, syscall.ESRCH, "%s %d must have exited", key, pid)
	}
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	require.NoError(t, err)
	for _, path := range procs {
		cmdline, err := os.ReadFile(path)
		if err != nil {
			continue // exited meanwhile
		}
		assert.False(t, bytes.Contains(cmdline, []byte(dir)), "leftover process %s: %s",
			filepath.Base(filepath.Dir(path)), bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
	}
}
