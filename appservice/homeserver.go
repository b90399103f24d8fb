package appservice

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	mauas "maunium.net/go/mautrix/appservice"
)

// WaitForHomeserver polls /versions until the homeserver answers or
// timeout passes, so rathaus and its homeserver can start in any order.
// It stores the spec versions in as and then pings the homeserver (see
// Ping).
func WaitForHomeserver(ctx context.Context, as *mauas.AppService, timeout time.Duration, log zerolog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	wait := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		versions, err := as.BotClient().Versions(ctx)
		if err == nil {
			as.SpecVersions = versions
			Ping(ctx, as, log)
			return nil
		}
		if attempt == 1 || attempt%10 == 0 {
			log.Warn().Err(err).Str("homeserver_url", as.BotClient().HomeserverURL.String()).Msg("Waiting for the homeserver")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w at %s: %w", ErrHomeserverUnreachable, as.BotClient().HomeserverURL, err)
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

// Ping asks the homeserver to call us back (spec v1.7). A homeserver
// without the endpoint (Dendrite speaks v1.2) is only warned about; a
// failed ping means transactions will not reach us, which is logged as an
// error but not fatal: the homeserver keeps retrying them.
func Ping(ctx context.Context, as *mauas.AppService, log zerolog.Logger) {
	if as.SpecVersions == nil || !as.SpecVersions.Supports(mautrix.FeatureAppservicePing) {
		log.Warn().Msg("Homeserver does not support the appservice ping (Matrix v1.7); cannot check that it reaches rathaus")
		return
	}
	resp, err := as.BotIntent().AppservicePing(ctx, as.Registration.ID, "rathaus-startup-"+time.Now().UTC().Format("20060102T150405.000"))
	var httpErr mautrix.HTTPError
	switch {
	case err == nil:
		log.Info().Int64("duration_ms", resp.DurationMS).Msg("Homeserver reaches rathaus")
	case errors.As(err, &httpErr) && httpErr.Response != nil &&
		(httpErr.Response.StatusCode == http.StatusNotFound || httpErr.Response.StatusCode == http.StatusMethodNotAllowed):
		log.Warn().Msg("Homeserver does not implement the appservice ping; cannot check that it reaches rathaus")
	default:
		log.Error().Err(err).Str("public_url", as.Registration.URL).
			Msg("Homeserver cannot reach rathaus; check appservice.public_url and the registration file")
	}
}

// EnsureBot makes sure the bot account exists and carries its display
// name. The display name is only set when it differs, because setting it
// sends a member event into every room the bot is in.
func EnsureBot(ctx context.Context, as *mauas.AppService, displayName string) error {
	bot := as.BotIntent()
	if err := bot.EnsureRegistered(ctx); err != nil {
		return fmt.Errorf("failed to register bot %s: %w", bot.UserID, err)
	}
	current, err := bot.GetOwnDisplayName(ctx)
	if err == nil && current.DisplayName == displayName {
		return nil
	}
	if err = bot.SetDisplayName(ctx, displayName); err != nil {
		return fmt.Errorf("failed to set bot display name: %w", err)
	}
	return nil
}
