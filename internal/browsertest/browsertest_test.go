package browsertest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stepTimeout covers launching Chromium on a busy two-core CI machine.
const stepTimeout = 60 * time.Second

// csp is what rathaus's own pages send: no inline script, no eval.
const csp = "default-src 'self'; script-src 'self'"

var pages = map[string]string{
	"/hello": `<!doctype html><html lang="de"><head><title>Hallo</title></head><body><main>
<h1 id="greeting">Guten Tag</h1>
<label for="name">Name</label> <input id="name">
</main></body></html>`,

	// No label on the input (critical) and grey on white (serious), plus an
	// inline script the CSP must block next to an allowed external one.
	"/bad": `<!doctype html><html lang="de"><head><title>Schlecht</title>
<link rel="stylesheet" href="/bad.css"></head><body>
<script>document.body.dataset.inline = 'ran';</script>
<script src="/external.js"></script>
<main><h1>Formular</h1><input type="text" id="q"><p class="faint">Kaum lesbar</p></main>
</body></html>`,
	"/bad.css":     `.faint { color: #c8c8c8; background: #ffffff; }`,
	"/external.js": `document.body.dataset.external = 'ran';`,

	"/good": `<!doctype html><html lang="de"><head><title>Gut</title></head><body><main>
<h1>Kontakt</h1>
<form><label for="q">Ihr Anliegen</label> <input type="text" id="q">
<button type="submit">Senden</button></form>
</main></body></html>`,

	"/form": `<!doctype html><html lang="de"><head><title>Formular</title></head><body><main>
<h1>Anfrage</h1><form>
<label for="name">Name</label> <input id="name">
<label for="email">E-Mail</label> <input id="email" type="email">
<label for="topic">Thema</label> <select id="topic"><option>Meldewesen</option></select>
<label for="msg">Nachricht</label> <textarea id="msg"></textarea>
<button id="send" type="button">Senden</button>
</form></main></body></html>`,

	"/no-outline": `<!doctype html><html lang="de"><head><title>Ohne Fokus</title>
<link rel="stylesheet" href="/no-outline.css"></head><body><main>
<label for="name">Name</label> <input id="name">
<button id="send" type="button">Senden</button>
</main></body></html>`,
	"/no-outline.css": `button:focus { outline: none; }`,

	"/pageerror": `<!doctype html><html lang="de"><head><title>Fehler</title>
<script src="/boom.js"></script></head><body><main>Gleich knallt es.</main></body></html>`,
	"/boom.js": `setTimeout(() => { throw new Error('boom from the page'); }, 50);`,
}

// newSite serves pages on 127.0.0.1 with the strict CSP.
func newSite(t *testing.T) *httptest.Server {
	t.Helper()
	l, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		switch {
		case strings.HasSuffix(r.URL.Path, ".css"):
			w.Header().Set("Content-Type", "text/css")
		case strings.HasSuffix(r.URL.Path, ".js"):
			w.Header().Set("Content-Type", "text/javascript")
		default:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		w.Header().Set("Content-Security-Policy", csp)
		fmt.Fprint(w, body)
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func TestSteps(t *testing.T) {
	site := newSite(t)
	started := time.Now()
	s := Start(t, "selftest/steps.mjs", nil)

	ready := s.Expect("ready", stepTimeout)
	assert.Equal(t, map[string]any{"from": "node"}, ready)
	t.Logf("Chromium ready after %s", time.Since(started).Round(time.Millisecond))
	s.Continue("ready", map[string]any{"url": site.URL + "/hello"})

	read := s.Expect("read", stepTimeout)
	assert.Equal(t, "Guten Tag", read["text"])
	assert.Equal(t, "Hallo", read["title"])
	s.Continue("read", map[string]any{"name": "Erika Mustermann"})

	filled := s.Expect("filled", stepTimeout)
	assert.Equal(t, "Erika Mustermann", filled["value"])
	s.Continue("filled", nil)
	s.Wait(stepTimeout)
	t.Logf("whole script took %s", time.Since(started).Round(time.Millisecond))
}

func TestA11yUnderCSP(t *testing.T) {
	site := newSite(t)
	s := Start(t, "selftest/a11y.mjs", nil)
	s.Expect("ready", stepTimeout)
	s.Continue("ready", map[string]any{"base": site.URL})

	bad := s.Expect("bad", stepTimeout)
	// The CSP is really in force: the inline script was refused, the
	// external one from 'self' ran, and axe ran all the same.
	assert.Equal(t, false, bad["inlineRan"], "the CSP must block inline scripts")
	assert.Equal(t, true, bad["externalRan"])
	msg, _ := bad["error"].(string)
	require.NotEmpty(t, msg, "checkA11y must throw on the bad page")
	assert.Contains(t, msg, "label (critical)")
	assert.Contains(t, msg, "#q")
	assert.Contains(t, msg, "color-contrast (serious)")
	assert.Contains(t, msg, "    at p\n", "the grey paragraph")
	s.Continue("bad", nil)

	good := s.Expect("good", stepTimeout)
	assert.Equal(t, "good page", good["label"])
	assert.Empty(t, good["violations"])
	assert.Greater(t, good["passes"], float64(5), "axe must actually have checked rules")
	s.Continue("good", nil)
	s.Wait(stepTimeout)
}

func TestKeyboard(t *testing.T) {
	site := newSite(t)
	s := Start(t, "selftest/keyboard.mjs", nil)
	s.Expect("ready", stepTimeout)
	s.Continue("ready", map[string]any{"base": site.URL})

	done := s.Expect("done", stepTimeout)
	send, _ := done["send"].(map[string]any)
	assert.Equal(t, float64(5), send["presses"], "name, email, topic, msg, send")
	assert.Contains(t, send["element"], `button#send "Senden"`)
	back, _ := done["back"].(map[string]any)
	assert.Equal(t, float64(4), back["presses"])

	missing, _ := done["missing"].(string)
	assert.Contains(t, missing, "Tab pressed 8 times without reaching #nowhere")
	assert.Contains(t, missing, "input#email")

	hidden, _ := done["hidden"].(string)
	assert.Contains(t, hidden, "no visible focus indicator")
	assert.Contains(t, hidden, "outline none")
	s.Continue("done", nil)
	s.Wait(stepTimeout)
}

func TestScriptFailureReachesGo(t *testing.T) {
	collectArtifacts(t)
	site := newSite(t)
	tests := []struct {
		name   string
		script string
		page   string
		want   []string
	}{
		{
			name:   "thrown error",
			script: "selftest/throws.mjs",
			page:   "/hello",
			want:   []string{"throws.mjs failed", "deliberate failure from selftest/throws.mjs", "throws.mjs:9", "screenshots: "},
		},
		{
			name:   "uncaught error in the page",
			script: "selftest/pageerror.mjs",
			page:   "/pageerror",
			want:   []string{"pageerror.mjs failed", "uncaught error in page", "boom from the page"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := fatalOf(t, func(tb testing.TB) {
				s := Start(tb, tc.script, nil)
				s.Expect("ready", stepTimeout)
				s.Continue("ready", map[string]any{"url": site.URL + tc.page})
				s.Expect("never", stepTimeout)
			})
			for _, want := range tc.want {
				assert.Contains(t, msg, want)
			}
			if shot := regexp.MustCompile(`screenshots: (\S+\.png)`).FindStringSubmatch(msg); shot != nil {
				info, err := os.Stat(shot[1])
				require.NoError(t, err, "the screenshot named in the failure must exist")
				assert.Positive(t, info.Size())
			}
		})
	}
}

// TestScreenshotWhenGoFails: when the Go side gives up on a script (here on
// a step it did not expect), the cleanup has the harness take screenshots
// of the pages where the script got stuck.
func TestScreenshotWhenGoFails(t *testing.T) {
	base := collectArtifacts(t)
	site := newSite(t)
	var s *Script
	t.Run("failing", func(t *testing.T) {
		msg := fatalOf(t, func(tb testing.TB) {
			s = Start(tb, "selftest/steps.mjs", nil)
			s.Expect("ready", stepTimeout)
			s.Continue("ready", map[string]any{"url": site.URL + "/hello"})
			s.Expect("never", stepTimeout)
		})
		assert.Contains(t, msg, `reached step "read", the test expected "never"`)
	})
	require.NotNil(t, s)
	assert.Equal(t, filepath.Join(base, "TestScreenshotWhenGoFails_failing"), s.artifacts)
	shots, err := filepath.Glob(filepath.Join(s.artifacts, "*-fail-127.0.0.1_*_hello.png"))
	require.NoError(t, err)
	assert.Len(t, shots, 1, "a screenshot of /hello in %s", s.artifacts)
}

func TestProtocolMistakes(t *testing.T) {
	collectArtifacts(t)
	t.Run("wrong step name", func(t *testing.T) {
		msg := fatalOf(t, func(tb testing.TB) {
			s := Start(tb, "selftest/steps.mjs", nil)
			s.Expect("started", stepTimeout)
		})
		assert.Contains(t, msg, `reached step "ready", the test expected "started"`)
	})
	t.Run("continue without a waiting step", func(t *testing.T) {
		msg := fatalOf(t, func(tb testing.TB) {
			s := Start(tb, "selftest/steps.mjs", nil)
			s.Continue("ready", nil)
		})
		assert.Contains(t, msg, `Continue("ready"), but selftest/steps.mjs waits at no step`)
	})
}

// TestCleanupLeavesNoProcesses stops a script while Chromium is open and
// checks that every process that ran below it is gone.
func TestCleanupLeavesNoProcesses(t *testing.T) {
	var seen []proc
	t.Run("script", func(t *testing.T) {
		s := Start(t, "selftest/steps.mjs", nil)
		s.Expect("ready", stepTimeout)
		s.tree.scan()
		seen = s.tree.alive()
		// The test ends here, with the script waiting in step "ready".
	})
	var chromium int
	for _, p := range seen {
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p.pid)); strings.HasPrefix(string(comm), "chromium") {
			chromium++
		}
	}
	// A failure here would mean the test proves nothing.
	require.Positive(t, chromium, "no Chromium process was seen below the script: %v", seen)
	for _, p := range seen {
		if cur, ok := readProc(p.pid); ok && cur.start == p.start && !cur.zombie {
			t.Errorf("process %d (group %d) outlived the test", p.pid, p.pgid)
		}
	}
}

// collectArtifacts points the artifacts of t's scripts into a temporary
// directory: tests that fail scripts on purpose keep no screenshots.
func collectArtifacts(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv(EnvArtifacts, dir)
	return dir
}

// fatalOf runs f with a testing.TB whose Fatal ends only f, and returns the
// message f failed with. It fails t if f did not fail.
func fatalOf(t *testing.T, f func(tb testing.TB)) string {
	t.Helper()
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(rec)
	}()
	<-done
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.NotEmpty(t, rec.fatals, "expected a test failure")
	return rec.fatals[0]
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	fatals []string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.fatals = append(r.fatals, fmt.Sprintf(format, args...))
	r.mu.Unlock()
	r.Logf("recorded failure: "+format, args...)
	runtime.Goexit()
}

func (r *recorder) Errorf(format string, args ...any) {
	r.TB.Errorf(format, args...)
}

// Failed reports the recorded failures too, as the cleanup of Start asks.
func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.fatals) > 0 || r.TB.Failed()
}
