package ingest

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// sink is the appservice URL in the registration Dendrite loads. It
// accepts Dendrite's transactions and drops them, and knows no alias and
// no user, so the only events a rathaus under test handles are the
// harness's, while its start-up (which asks Dendrite to resolve its
// aliases, and Dendrite the appservice) works as with a reachable
// rathaus.
type sink struct {
	srv *http.Server
	url string
}

func startSink() (*sink, error) {
	// A bind on loopback does not block: there is nothing to cancel.
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{url: "http://" + l.Addr().String()}
	s.srv = &http.Server{Handler: http.HandlerFunc(sinkHandler), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

func sinkHandler(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	if r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/_matrix/app/v1/transactions/") {
		_, _ = io.WriteString(w, "{}")
		return
	}
	w.WriteHeader(http.StatusNotFound)
	_, _ = io.WriteString(w, `{"errcode":"M_NOT_FOUND","error":"Not known to the benchmark's sink"}`)
}

func (s *sink) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}
