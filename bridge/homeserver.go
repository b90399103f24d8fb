package bridge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"maunium.net/go/mautrix"
)

// StartupTimeout bounds how long Start waits for the homeserver.
var StartupTimeout = 2 * time.Minute

// waitForHomeserver polls /versions until the homeserver answers, so
// rathaus and its homeserver can start in any order.
func (b *Bridge) waitForHomeserver(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, StartupTimeout)
	defer cancel()
	wait := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		versions, err := b.as.BotClient().Versions(ctx)
		if err == nil {
			b.as.SpecVersions = versions
			b.pingHomeserver(ctx, versions)
			return nil
		}
		if attempt == 1 || attempt%10 == 0 {
			b.log.Warn().Err(err).Str("homeserver_url", b.cfg.Homeserver.URL).Msg("Waiting for the homeserver")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w at %s: %w", ErrHomeserverUnreachable, b.cfg.Homeserver.URL, err)
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

// pingHomeserver asks the homeserver to call us back (spec v1.7). A
// homeserver without the endpoint (Dendrite speaks v1.2) is only warned
// about; a failed ping means transactions will not reach us, which is
// logged as an error but not fatal: the homeserver keeps retrying them.
func (b *Bridge) pingHomeserver(ctx context.Context, versions *mautrix.RespVersions) {
	if !versions.Supports(mautrix.FeatureAppservicePing) {
		b.log.Warn().Msg("Homeserver does not support the appservice ping (Matrix v1.7); cannot check that it reaches rathaus")
		return
	}
	resp, err := b.as.BotIntent().AppservicePing(ctx, b.cfg.AppService.ID, "rathaus-startup-"+time.Now().UTC().Format("20060102T150405.000"))
	var httpErr mautrix.HTTPError
	switch {
	case err == nil:
		b.log.Info().Int64("duration_ms", resp.DurationMS).Msg("Homeserver reaches rathaus")
	case errors.As(err, &httpErr) && httpErr.Response != nil &&
		(httpErr.Response.StatusCode == http.StatusNotFound || httpErr.Response.StatusCode == http.StatusMethodNotAllowed):
		b.log.Warn().Msg("Homeserver does not implement the appservice ping; cannot check that it reaches rathaus")
	default:
		b.log.Error().Err(err).Str("public_url", b.cfg.AppService.PublicURL).
			Msg("Homeserver cannot reach rathaus; check appservice.public_url and the registration file")
	}
}

// registerBot makes sure the bot account exists and carries its display
// name. The display name is only set when it differs, because setting it
// sends a member event into every room the bot is in.
func (b *Bridge) registerBot(ctx context.Context) error {
	bot := b.as.BotIntent()
	if err := bot.EnsureRegistered(ctx); err != nil {
		return fmt.Errorf("failed to register bot %s: %w", bot.UserID, err)
	}
	want := b.cfg.AppService.Bot.Displayname
	current, err := bot.GetOwnDisplayName(ctx)
	if err == nil && current.DisplayName == want {
		return nil
	}
	if err = bot.SetDisplayName(ctx, want); err != nil {
		return fmt.Errorf("failed to set bot display name: %w", err)
	}
	return nil
}

// serveMetrics starts the Prometheus listener if metrics are enabled.
func (b *Bridge) serveMetrics() error {
	if !b.cfg.Metrics.Enabled {
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(b.registry, promhttp.HandlerOpts{}))
	b.metricsSrv = &http.Server{Addr: b.cfg.Metrics.Listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	l, err := net.Listen("tcp", b.cfg.Metrics.Listen)
	if err != nil {
		return fmt.Errorf("failed to listen on metrics.listen %s: %w", b.cfg.Metrics.Listen, err)
	}
	go func() {
		if err := b.metricsSrv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.log.Error().Err(err).Msg("Metrics listener failed")
			b.fail(fmt.Errorf("metrics listener failed: %w", err))
		}
	}()
	return nil
}
