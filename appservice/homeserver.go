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
// It stores the spec versions in as and then pings the homeserver; a
// registration whose hs_token differs from rathaus's is returned as
// ErrHSTokenMismatch (see Ping).
func WaitForHomeserver(ctx context.Context, as *mauas.AppService, timeout time.Duration, log zerolog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	wait := 250 * time.Millisecond
	bot := as.BotClient()
	url := bot.HomeserverURL.String()
	// The bot's client retries each request four times with backoff and
	// logs every retry; here this loop does the waiting, and says once.
	probe, err := mautrix.NewClient(url, bot.UserID, bot.AccessToken)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrHomeserverUnreachable, err)
	}
	probe.Client, probe.Log, probe.DefaultHTTPRetries = bot.Client, bot.Log, 0
	var cause error // the last failure that was not our own deadline
	for attempt := 1; ; attempt++ {
		versions, err := probe.Versions(ctx)
		var httpErr mautrix.HTTPError
		switch {
		case err == nil:
			as.SpecVersions = versions
			return Ping(ctx, as, log)
		case errors.Is(err, mautrix.MUnknownToken):
			// /versions needs no token, but Synapse checks one that is
			// sent: the homeserver is up and does not know ours.
			return asTokenUnknown(err)
		case errors.As(err, &httpErr) && httpErr.Response != nil && httpErr.Response.StatusCode == http.StatusNotFound:
			// Something answers, but not a homeserver's client API: the
			// URL is wrong, and waiting will not fix it.
			return fmt.Errorf("%w: %s answers 404 for /_matrix/client/versions; homeserver.url must be the homeserver's base URL (the one clients use), without /_matrix/…",
				ErrHomeserverUnreachable, url)
		case ctx.Err() == nil:
			cause = err
		}
		if attempt == 1 {
			log.Warn().Err(err).Str("homeserver_url", url).Dur("giving_up_after", timeout).
				Msg("Homeserver not reachable yet; waiting for it (check homeserver.url if it is running)")
		} else if attempt%10 == 0 {
			log.Info().Err(err).Str("homeserver_url", url).Msg("Still waiting for the homeserver")
		}
		select {
		case <-ctx.Done():
			if cause == nil {
				cause = err
			}
			return fmt.Errorf("%w at %s after %s; last error: %w", ErrHomeserverUnreachable, url, timeout, cause)
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

// Ping asks the homeserver to call us back (spec v1.7). A homeserver
// without the endpoint (Dendrite speaks v1.2) is only warned about. If the
// homeserver reached rathaus but rathaus refused its hs_token, the
// homeserver's copy of the registration is not rathaus's: nothing it sends
// will ever be accepted, so that is returned as ErrHSTokenMismatch. Any
// other failure (rathaus unreachable at appservice.public_url) is logged as
// an error but not returned: the homeserver keeps retrying its
// transactions, and a reverse proxy may just not be up yet.
func Ping(ctx context.Context, as *mauas.AppService, log zerolog.Logger) error {
	if as.SpecVersions == nil || !as.SpecVersions.Supports(mautrix.FeatureAppservicePing) {
		log.Warn().Msg("Homeserver does not support the appservice ping (Matrix v1.7); cannot check that it reaches rathaus")
		return nil
	}
	resp, err := as.BotIntent().AppservicePing(ctx, as.Registration.ID, "rathaus-startup-"+time.Now().UTC().Format("20060102T150405.000"))
	var httpErr mautrix.HTTPError
	switch {
	case err == nil:
		log.Info().Int64("duration_ms", resp.DurationMS).Msg("Homeserver reaches rathaus")
	case errors.As(err, &httpErr) && httpErr.Response != nil &&
		(httpErr.Response.StatusCode == http.StatusNotFound || httpErr.Response.StatusCode == http.StatusMethodNotAllowed):
		log.Warn().Msg("Homeserver does not implement the appservice ping; cannot check that it reaches rathaus")
	case pingRefusedToken(err):
		log.Error().Str("public_url", as.Registration.URL).
			Msg("Homeserver reaches rathaus but sends another hs_token: its registration file is not rathaus's; " +
				"run `rathaus generate-registration`, give the file to the homeserver and restart both")
		return fmt.Errorf("%w: the homeserver's registration file has another hs_token than appservice.hs_token", ErrHSTokenMismatch)
	default:
		log.Error().Err(err).Str("public_url", as.Registration.URL).
			Msg("Homeserver cannot reach rathaus; check appservice.public_url and the registration file")
	}
	return nil
}

// pingRefusedToken reports whether a ping failed because rathaus itself
// answered the homeserver's call with 401 or 403: the homeserver reports
// our status as M_BAD_STATUS with a "status" field.
func pingRefusedToken(err error) bool {
	var httpErr mautrix.HTTPError
	if !errors.As(err, &httpErr) || httpErr.RespError == nil || httpErr.RespError.ErrCode != mautrix.MBadStatus.ErrCode {
		return false
	}
	status, _ := httpErr.RespError.ExtraData["status"].(float64)
	return status == http.StatusUnauthorized || status == http.StatusForbidden
}

// EnsureBot makes sure the bot account exists and carries its display
// name. The display name is only set when it differs, because setting it
// sends a member event into every room the bot is in.
func EnsureBot(ctx context.Context, as *mauas.AppService, displayName string) error {
	bot := as.BotIntent()
	if err := bot.EnsureRegistered(ctx); errors.Is(err, mautrix.MUnknownToken) {
		return asTokenUnknown(err)
	} else if err != nil {
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

// asTokenUnknown is the start-up error when the homeserver answers rathaus
// with M_UNKNOWN_TOKEN: it holds no (or another) registration of rathaus.
func asTokenUnknown(err error) error {
	return fmt.Errorf("%w: the homeserver does not know appservice.as_token; give it rathaus's registration file and restart it: %w",
		ErrASTokenUnknown, err)
}
