package ozg_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/internal/syncbuf"
	"github.com/rathaus-de/rathaus/ozg"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// Two services' API keys (not the published example key).
const (
	bauKey  = "rh_Zk9vY2FsLWJhdWFudHJhZy1rZXktbm90LWluLWRvY3M"
	parkKey = "rh_cGFya2F1c3dlaXMta2V5LW5vdC1pbi10aGUtZG9jcwA"
	bauBody = `{"service":"bauantrag","service_version":"2.4.1","leika":"99108008000000","ars":"081110000000",` +
		`"step":"Angaben zum Grundstück","err":"E-FLURSTUECK-404","lang":"en","trust":"substanziell",` +
		`"submission":"5f6b7ac5-3c2a-4c6e-9a2e-0d0c6f6b7a11"}`
)

// helpRequests is the adapter internal/app uses: *store.Store with the
// ozg package's type.
type helpRequests struct{ *store.Store }

func (h helpRequests) CreateHelpRequest(ctx context.Context, r ozg.HelpRequest, notBefore time.Time) (ozg.HelpRequest, bool, error) {
	got, created, err := h.Store.CreateHelpRequest(ctx, store.HelpRequest(r), notBefore)
	if err != nil {
		return ozg.HelpRequest{}, false, err
	}
	return ozg.HelpRequest(*got), created, nil
}

// intakeEnv is the intake API and the verifier of the /hilfe page on one
// real (SQLite) store.
type intakeEnv struct {
	cfg      *config.Config
	path     string
	store    *store.Store
	intake   *ozg.Intake
	verifier *ozg.Verifier
	handler  http.Handler
	logs     *syncbuf.Buffer
}

func testIntakeConfig() *config.Config {
	cfg := &config.Config{}
	cfg.GuestChat.PublicURL = "https://chat.bad-beispielheim.de/"
	svc := func(id, name, key string) config.OZGServiceConfig {
		return config.OZGServiceConfig{ID: id, Name: name, Origins: []string{"https://portal.bad-beispielheim.de"},
			ContextKey: config.ContextKeyConfig{HMACSecret: strings.Repeat(id[:1], 32)},
			APIKeys:    []config.OZGAPIKeyConfig{{ID: "2026-11", SHA256: config.HashAPIKey(key)}}}
	}
	cfg.OZG.Services = []config.OZGServiceConfig{svc("bauantrag", "Bauantrag online", bauKey), svc("parkausweis", "Parkausweis", parkKey)}
	return cfg
}

func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Options{Type: store.TypeSQLite, URI: path, Log: zerolog.Nop()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newIntakeEnv(t *testing.T, now func() time.Time) *intakeEnv {
	t.Helper()
	e := &intakeEnv{cfg: testIntakeConfig(), path: filepath.Join(t.TempDir(), "rathaus.db"), logs: &syncbuf.Buffer{}}
	e.store = openStore(t, e.path)
	var err error
	e.intake, err = ozg.NewIntake(ozg.IntakeOptions{Config: e.getConfig, Store: helpRequests{e.store},
		Log: zerolog.New(e.logs), Now: now})
	require.NoError(t, err)
	e.verifier = e.newVerifier(t, e.store)
	mux := http.NewServeMux()
	for _, r := range e.intake.Routes() {
		mux.Handle(r.Pattern(), r.Handler)
	}
	mux.HandleFunc(ozg.APIPrefix, ozg.NotFound)
	e.handler = mux
	return e
}

func (e *intakeEnv) getConfig() *config.Config { return e.cfg }

func (e *intakeEnv) newVerifier(t *testing.T, s *store.Store) *ozg.Verifier {
	t.Helper()
	v, err := ozg.NewVerifier(ozg.Options{Config: e.getConfig, JTIs: s, IntakeKeys: s})
	require.NoError(t, err)
	return v
}

// post sends a help request; key "" sends no Authorization, idem ""
// no Idempotency-Key.
func (e *intakeEnv) post(t *testing.T, key, idem, body string) *httptest.ResponseRecorder {
	t.Helper()
	return e.do(t, newHelpRequest(key, idem, body))
}

func newHelpRequest(key, idem, body string) *http.Request {
	r := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "http://chat.bad-beispielheim.de"+ozg.HelpRequestsPath, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if key != "" {
		r.Header.Set("Authorization", "Bearer "+key)
	}
	if idem != "" {
		r.Header.Set(ozg.IdempotencyKeyHeader, idem)
	}
	return r
}

func (e *intakeEnv) do(t *testing.T, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, r)
	return w
}

func answerOf(t *testing.T, w *httptest.ResponseRecorder) ozg.HelpRequestAnswer {
	t.Helper()
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	var a ozg.HelpRequestAnswer
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&a))
	return a
}

func errorOf(t *testing.T, w *httptest.ResponseRecorder) map[string]string {
	t.Helper()
	var e map[string]string
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e), w.Body.String())
	return e
}

// contextOf is the context in an answer's link.
func contextOf(t *testing.T, a ozg.HelpRequestAnswer) string {
	t.Helper()
	base, token, ok := strings.Cut(a.URL, "#ctx=")
	require.True(t, ok, a.URL)
	assert.Equal(t, "https://chat.bad-beispielheim.de/hilfe", base, "the context is in the fragment, which no server log sees")
	return token
}

// A missing or unknown key is 401; a key of another service than the
// body's is 403; neither issues a link.
func TestIntakeAuthentication(t *testing.T) {
	e := newIntakeEnv(t, nil)
	for name, r := range map[string]*http.Request{
		"no key":      newHelpRequest("", "k1", bauBody),
		"unknown key": newHelpRequest(bauKey+"x", "k1", bauBody),
		"hash as key": newHelpRequest(config.HashAPIKey(bauKey), "k1", bauBody),
		"example key": newHelpRequest(config.PlaceholderOZGAPIKey, "k1", bauBody),
		"basic auth": func() *http.Request {
			r := newHelpRequest("", "k1", bauBody)
			r.SetBasicAuth("bauantrag", bauKey)
			return r
		}(),
		"bearer, no key": func() *http.Request {
			r := newHelpRequest("", "k1", bauBody)
			r.Header.Set("Authorization", "Bearer ")
			return r
		}(),
		"key not bearing": func() *http.Request {
			r := newHelpRequest("", "k1", bauBody)
			r.Header.Set("Authorization", bauKey)
			return r
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			w := e.do(t, r)
			assert.Equal(t, http.StatusUnauthorized, w.Code)
			assert.Equal(t, "unauthorized", errorOf(t, w)["errcode"])
			assert.Equal(t, `Bearer realm="rathaus"`, w.Header().Get("WWW-Authenticate"))
		})
	}
	// The parking permit's key for the building permit: 403, even with
	// other fields wrong (they are none of its business).
	for _, body := range []string{bauBody, `{"service":"bauantrag","leika":"1"}`, `{"service":"bauantrag","form":"Erika"}`} {
		w := e.post(t, parkKey, "k1", body)
		assert.Equal(t, http.StatusForbidden, w.Code, body)
		assert.Equal(t, "forbidden", errorOf(t, w)["errcode"])
	}
	n, err := e.store.CountHelpRequests(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n, "nothing issued")

	// After a reload that removes the key, it is unknown.
	e.cfg = testIntakeConfig()
	e.cfg.OZG.Services[0].APIKeys = nil
	assert.Equal(t, http.StatusUnauthorized, e.post(t, bauKey, "k1", bauBody).Code)
}

// A body or header that is wrong is 400 and names what is wrong.
func TestIntakeMalformed(t *testing.T) {
	e := newIntakeEnv(t, nil)
	tests := []struct {
		name, idem, body string
		status           int
		errcode, field   string
	}{
		{"no Idempotency-Key", "", bauBody, 400, "invalid_field", "Idempotency-Key"},
		{"Idempotency-Key with a space", "a b", bauBody, 400, "invalid_field", "Idempotency-Key"},
		{"Idempotency-Key too long", strings.Repeat("k", 129), bauBody, 400, "invalid_field", "Idempotency-Key"},
		{"not JSON", "k", `leika=1`, 400, "bad_request", ""},
		{"an array", "k", `[]`, 400, "bad_request", ""},
		{"two objects", "k", `{"service":"bauantrag"} {}`, 400, "bad_request", ""},
		{"a key twice", "k", `{"service":"bauantrag","leika":"99108008000000","leika":"99108008000001"}`, 400, "bad_request", ""},
		{"too large", "k", `{"service":"bauantrag","step":"` + strings.Repeat("x", 5000) + `"}`, 413, "too_large", ""},
		{"unknown field", "k", `{"service":"bauantrag","leika":"99108008000000","form":{"name":"Erika"}}`, 400, "invalid_field", "form"},
		{"field in other case", "k", `{"service":"bauantrag","Leika":"99108008000000"}`, 400, "invalid_field", "Leika"},
		{"no service", "k", `{"leika":"99108008000000"}`, 400, "invalid_field", "service"},
		{"empty service", "k", `{"service":"","leika":"99108008000000"}`, 400, "invalid_field", "service"},
		{"service not a string", "k", `{"service":7,"leika":"99108008000000"}`, 400, "invalid_field", "service"},
		{"no leika", "k", `{"service":"bauantrag"}`, 400, "invalid_field", "leika"},
		{"leika a number", "k", `{"service":"bauantrag","leika":99108008000000}`, 400, "invalid_field", "leika"},
		{"leika short", "k", `{"service":"bauantrag","leika":"9910800800000"}`, 400, "invalid_field", "leika"},
		{"bad version", "k", `{"service":"bauantrag","leika":"99108008000000","service_version":"2.4 beta"}`, 400, "invalid_field", "service_version"},
		{"bad ars", "k", `{"service":"bauantrag","leika":"99108008000000","ars":"0811"}`, 400, "invalid_field", "ars"},
		{"bad err", "k", `{"service":"bauantrag","leika":"99108008000000","err":"<script>"}`, 400, "invalid_field", "err"},
		{"step too long", "k", `{"service":"bauantrag","leika":"99108008000000","step":"` + strings.Repeat("ä", 81) + `"}`, 400, "invalid_field", "step"},
		{"lang fr", "k", `{"service":"bauantrag","leika":"99108008000000","lang":"fr"}`, 400, "invalid_field", "lang"},
		{"bad trust", "k", `{"service":"bauantrag","leika":"99108008000000","trust":"mittel"}`, 400, "invalid_field", "trust"},
		{"bad submission", "k", `{"service":"bauantrag","leika":"99108008000000","submission":"123"}`, 400, "invalid_field", "submission"},
		{"bad destination", "k", `{"service":"bauantrag","leika":"99108008000000","destination":"123"}`, 400, "invalid_field", "destination"},
		{"bad case", "k", `{"service":"bauantrag","leika":"99108008000000","case":"123"}`, 400, "invalid_field", "case"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := e.post(t, bauKey, tc.idem, tc.body)
			assert.Equal(t, tc.status, w.Code, w.Body.String())
			got := errorOf(t, w)
			assert.Equal(t, tc.errcode, got["errcode"])
			assert.Equal(t, tc.field, got["field"])
			if tc.field != "" {
				assert.True(t, strings.HasPrefix(got["error"], tc.field+" "), "the message names the field: %s", got["error"])
			}
		})
	}
	r := newHelpRequest(bauKey, "k", bauBody)
	r.Header.Set("Content-Type", "text/plain")
	assert.Equal(t, http.StatusUnsupportedMediaType, e.do(t, r).Code)
	n, err := e.store.CountHelpRequests(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n, "nothing issued")
	assert.NotContains(t, e.logs.String(), "Erika")
}

// The same Idempotency-Key gives the same answer; with other fields it
// is 422; keys count per service; a retry that only spells a default
// out is the same request.
func TestIntakeIdempotency(t *testing.T) {
	e := newIntakeEnv(t, nil)
	first := answerOf(t, e.post(t, bauKey, "order-4711", bauBody))
	assert.Regexp(t, `^hr_[0-9a-f]{32}$`, first.RequestID)
	expires, err := time.Parse(time.RFC3339, first.ExpiresAt)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now().Add(ozg.MaxLifetime), expires, 5*time.Second)

	w := e.post(t, bauKey, "order-4711", bauBody)
	assert.Equal(t, first, answerOf(t, w), "a retry gets the same request id and link")
	assert.Equal(t, "true", w.Header().Get(ozg.ReplayedHeader))

	w = e.post(t, bauKey, "order-4711", strings.Replace(bauBody, "Grundstück", "Gebäude", 1))
	assert.Equal(t, http.StatusUnprocessableEntity, w.Code)
	assert.Equal(t, "idempotency_key_reused", errorOf(t, w)["errcode"])

	minimal := `{"service":"bauantrag","leika":"99108008000000"}`
	a := answerOf(t, e.post(t, bauKey, "order-4712", minimal))
	assert.NotEqual(t, first.RequestID, a.RequestID)
	assert.Equal(t, a, answerOf(t, e.post(t, bauKey, "order-4712", `{"leika":"99108008000000","lang":"de","trust":"none","service":"bauantrag"}`)),
		"the defaults spelt out are the same request")

	park := answerOf(t, e.post(t, parkKey, "order-4711", `{"service":"parkausweis","leika":"99102001000000"}`))
	assert.NotEqual(t, first.RequestID, park.RequestID, "keys count per service")

	n, err := e.store.CountHelpRequests(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 3, n)

	// Logged: ids, never the body or the key.
	logs := e.logs.String()
	assert.Contains(t, logs, `"message":"Issued a help link"`)
	assert.Contains(t, logs, `"request_id":"`+first.RequestID+`"`)
	assert.Contains(t, logs, `"api_key":"2026-11"`)
	for _, secret := range []string{bauKey, parkKey, "Grundstück", "E-FLURSTUECK-404", "5f6b7ac5", contextOf(t, first)} {
		assert.NotContains(t, logs, secret)
	}
}

// The link opens the hand-over like a service's signed link: the
// verifier of the /hilfe page takes its context, across a restart, for
// one browser session only, and not after it expired.
func TestIntakeLinkHandsOver(t *testing.T) {
	ctx := context.Background()
	e := newIntakeEnv(t, nil)
	a := answerOf(t, e.post(t, bauKey, "order-4711", bauBody))
	token := contextOf(t, a)

	// A restart: the store reopened, a new verifier.
	require.NoError(t, e.store.Close())
	s := openStore(t, e.path)
	v := e.newVerifier(t, s)
	h, err := v.Verify(ctx, ozg.Request{Token: token, Binding: "session-a", Origin: "https://portal.bad-beispielheim.de"})
	require.NoError(t, err)
	assert.Equal(t, protocol.TicketID("bauantrag."+a.RequestID), h.TicketID())
	ticket := h.Ticket()
	assert.Equal(t, protocol.TicketContent{ID: h.TicketID(),
		Service: protocol.TicketService{ID: "bauantrag", Name: "Bauantrag online", Version: "2.4.1"},
		Leika:   "99108008000000", ARS: "081110000000", Step: "Angaben zum Grundstück", ErrorCode: "E-FLURSTUECK-404",
		Trust: protocol.TrustSubstanziell, Lang: "en", FITConnect: protocol.FITConnectIDs{Submission: "5f6b7ac5-3c2a-4c6e-9a2e-0d0c6f6b7a11"},
		Status: protocol.TicketOpen, Verified: true, IssuedAt: ticket.IssuedAt}, ticket)

	_, err = v.Verify(ctx, ozg.Request{Token: token, Binding: "session-a"})
	require.NoError(t, err, "the same session may open it again (a reload)")
	_, err = v.Verify(ctx, ozg.Request{Token: token, Binding: "session-b"})
	require.ErrorIs(t, err, ozg.ErrReplayed, "another browser may not")
	_, err = v.Verify(ctx, ozg.Request{Token: token, Binding: "session-c", Origin: "https://evil.example"})
	require.ErrorIs(t, err, ozg.ErrOrigin)

	// Changed, or signed by someone else with rathaus's kid.
	parts := strings.Split(token, ".")
	_, err = v.Verify(ctx, ozg.Request{Token: parts[0] + "." + parts[1] + ".AAAA" + parts[2][4:], Binding: "session-d"})
	require.ErrorIs(t, err, ozg.ErrSignature)

	// A service removed from the config: its links no longer work.
	e.cfg = testIntakeConfig()
	e.cfg.OZG.Services = e.cfg.OZG.Services[1:]
	_, err = v.Verify(ctx, ozg.Request{Token: token, Binding: "session-a"})
	require.ErrorIs(t, err, ozg.ErrUnknownService)

	// A verifier without the intake key store refuses such links.
	e.cfg = testIntakeConfig()
	plain, err := ozg.NewVerifier(ozg.Options{Config: e.getConfig, JTIs: s})
	require.NoError(t, err)
	_, err = plain.Verify(ctx, ozg.Request{Token: token, Binding: "session-a"})
	require.ErrorIs(t, err, ozg.ErrUnknownService)
}

// A link issued more than its lifetime (and the clock skew) ago is
// refused as expired.
func TestIntakeLinkExpires(t *testing.T) {
	issued := time.Now().Add(-ozg.MaxLifetime - ozg.ClockSkew - time.Second)
	e := newIntakeEnv(t, func() time.Time { return issued })
	a := answerOf(t, e.post(t, bauKey, "order-4711", bauBody))
	_, err := e.verifier.Verify(context.Background(), ozg.Request{Token: contextOf(t, a), Binding: "session-a"})
	require.ErrorIs(t, err, ozg.ErrExpired)
}

// Requests with one Idempotency-Key at the same moment make one request:
// all get its answer.
func TestIntakeIdempotencyConcurrent(t *testing.T) {
	e := newIntakeEnv(t, nil)
	const n = 8
	answers := make(chan ozg.HelpRequestAnswer, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			w := httptest.NewRecorder()
			e.handler.ServeHTTP(w, newHelpRequest(bauKey, "order-4711", bauBody))
			var a ozg.HelpRequestAnswer
			if w.Code == http.StatusCreated && json.Unmarshal(w.Body.Bytes(), &a) == nil {
				answers <- a
			} else {
				t.Errorf("answer %d: %s", w.Code, w.Body)
			}
		})
	}
	wg.Wait()
	close(answers)
	var got []ozg.HelpRequestAnswer
	for a := range answers {
		got = append(got, a)
	}
	require.Len(t, got, n)
	for _, a := range got[1:] {
		assert.Equal(t, got[0], a)
	}
	count, err := e.store.CountHelpRequests(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, count)
}

// Paths under the API prefix answer in JSON, with Allow for a known
// path and another method.
func TestIntakeNotFound(t *testing.T) {
	e := newIntakeEnv(t, nil)
	for _, r := range e.intake.Routes() {
		other := http.MethodGet
		if r.Method == http.MethodGet {
			other = http.MethodPost
		}
		w := e.do(t, httptest.NewRequestWithContext(context.Background(), other, r.Path, nil))
		assert.Equal(t, http.StatusMethodNotAllowed, w.Code, r.Pattern())
		assert.Equal(t, r.Method, w.Header().Get("Allow"), r.Pattern())
	}
	w := e.do(t, httptest.NewRequestWithContext(context.Background(), http.MethodGet, ozg.HelpRequestsPath, nil))
	assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
	assert.Equal(t, http.MethodPost, w.Header().Get("Allow"))
	w = e.do(t, httptest.NewRequestWithContext(context.Background(), http.MethodGet, ozg.APIPrefix+"nothing", nil))
	assert.Equal(t, http.StatusNotFound, w.Code)
	assert.Equal(t, "not_found", errorOf(t, w)["errcode"])
}

// The curl example of docs/ozg.md is a request the handler takes, with
// the published example key (which check-config refuses).
func TestIntakeDocsExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/ozg.md")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?s)curl -sS https://chat\.stadt\.example(/api/ozg/v1/help-requests) \\\n` +
		`  -H 'Authorization: Bearer (rh_[A-Za-z0-9_-]+)' \\\n.*?-d '(\{.*?\})'`).FindSubmatch(doc)
	require.NotNil(t, m, "the curl example in docs/ozg.md")
	assert.Equal(t, ozg.HelpRequestsPath, string(m[1]))
	assert.Equal(t, config.PlaceholderOZGAPIKey, string(m[2]))
	e := newIntakeEnv(t, nil)
	e.cfg.OZG.Services[0].ID = "bauantrag-online"
	e.cfg.OZG.Services[0].APIKeys[0].SHA256 = config.HashAPIKey(config.PlaceholderOZGAPIKey)
	a := answerOf(t, e.post(t, string(m[2]), "docs-example", string(m[3])))
	assert.Contains(t, a.URL, "/hilfe#ctx=")
}
