package video_test

import (
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/internal/browsertest"
	rvideo "github.com/rathaus-de/rathaus/video"
	"github.com/rathaus-de/rathaus/video/embedded"
	"github.com/rathaus-de/rathaus/video/videotest"
	"github.com/rathaus-de/rathaus/widgets/internal/webkit"
)

// TestHiddenHostCandidates (issue 14, acceptance 7): Chromium without a
// media permission hides its host candidates behind mDNS names the media
// server cannot resolve; the page still connects in under 1.5 s, because
// the server takes the peer-reflexive candidate of the first check at
// once (SetPrflxAcceptanceMinWait(0)).
func TestHiddenHostCandidates(t *testing.T) {
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	b, err := embedded.New(embedded.Options{GrantKeys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")},
		ICEUDPAddr: "127.0.0.1:0", IncludeLoopback: true,
		PublicURL: "ws" + strings.TrimPrefix(srv.URL, "http") + "/video/v1/signal", Log: zerolog.Nop()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	kit, err := fs.Sub(webkit.Assets, ".")
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/video/v1/signal", b)
	mux.Handle("/assets/kit/", http.StripPrefix("/assets/kit/", http.FileServerFS(kit)))
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Empfang</title></head><body><main></main></body></html>`))
	})
	srv.Config.Handler = mux

	ctx := context.Background()
	require.NoError(t, b.EnsureCall(ctx, "c1", rvideo.Limits{}))
	pub, err := b.Grant(ctx, rvideo.GrantRequest{Call: "c1", Identity: "@anna:rathaus.test", Rights: rvideo.Rights{Publish: true, Subscribe: true}})
	require.NoError(t, err)
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	publisher, err := videotest.Dial(dctx, pub.URL, pub.Token, videotest.Options{Video: true})
	require.NoError(t, err)
	t.Cleanup(publisher.Close)
	viewer, err := b.Grant(ctx, rvideo.GrantRequest{Call: "c1", Identity: "citizen", Rights: rvideo.Rights{Subscribe: true}})
	require.NoError(t, err)

	s := browsertest.Start(t, "e2e/hiddenhost.mjs", nil)
	s.Expect("ready", 45*time.Second)
	s.Continue("ready", map[string]any{"page": srv.URL + "/", "join": viewer})
	got := s.Expect("connected", 30*time.Second)
	s.Continue("connected", nil)
	s.Wait(30 * time.Second)
	t.Logf("connected after %.0f ms; local candidates %v", got["ms"], got["local"])
	assert.True(t, got["mdnsInSdp"].(bool) || !got["hostIPInSdp"].(bool), "the page hid its host candidates")
	assert.False(t, got["hostIPInSdp"].(bool), "no plain host address in the page's description")
	assert.Less(t, got["ms"].(float64), 1500.0, "connected in under 1.5 s")
}
