package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// serve serves handler on *l, or on a new listener on addr if *l is nil
// (the listener is stored back into *l). A listener that dies later fails
// the whole process (see Failed): the homeserver or the citizens can no
// longer reach rathaus. name is the config section, for messages.
func (a *App) serve(name string, l *net.Listener, addr string, handler http.Handler) error {
	var listener net.Listener
	if l != nil {
		listener = *l
	}
	if listener == nil {
		var err error
		if listener, err = (&net.ListenConfig{}).Listen(context.Background(), "tcp", addr); err != nil {
			return fmt.Errorf("failed to listen on %s.listen %s: %w", name, addr, err)
		}
		if l != nil {
			*l = listener
		}
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	if c, ok := handler.(serverConfigurer); ok {
		c.ConfigureServer(srv)
	}
	a.servers = append(a.servers, srv)
	go func() {
		if err := srv.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error().Err(err).Str("listener", name).Msg("Listener failed")
			a.fail(fmt.Errorf("%s listener failed: %w", name, err))
		}
	}()
	return nil
}

// serverConfigurer is a handler that sets its own listener's limits: the
// guest chat's timeouts depend on its uploads and live streams. serve calls
// ConfigureServer once, before serving.
type serverConfigurer interface {
	ConfigureServer(srv *http.Server)
}

// metricsHandler serves the Prometheus registry.
func metricsHandler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}
