package app_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/internal/app"
	"github.com/rathaus-de/rathaus/internal/app/apptest"
	"github.com/rathaus-de/rathaus/internal/tesths"
)

// TestStartupPing: Synapse answers the appservice ping (Matrix v1.7) by
// calling rathaus back, which rathaus logs; Dendrite v0.15.2 has no ping,
// which is a warning, not an error.
func TestStartupPing(t *testing.T) {
	apptest.EachHomeserver(t, func(t *testing.T, kind tesths.Kind) {
		env, _ := apptest.StartOn(t, kind, 1)
		log := env.Log()
		switch kind {
		case tesths.Synapse:
			assert.Contains(t, log, "Homeserver reaches rathaus")
		case tesths.Dendrite:
			assert.Contains(t, log, "does not support the appservice ping")
		}
		assert.NotContains(t, log, `"level":"error"`)
	})
}

// TestWrongRegistrationStopsStart: a homeserver holding another
// registration file than rathaus's config is reported at start with what
// to do. Another hs_token is found by the ping, so only on Synapse;
// another as_token on both homeservers.
func TestWrongRegistrationStopsStart(t *testing.T) {
	t.Run("hs_token/synapse", func(t *testing.T) {
		env, _, err := apptest.LaunchErr(t, apptest.Options{Homeservers: []tesths.Kind{tesths.Synapse},
			Tweak: func(cfg *config.Config, _ *app.Options) {
				cfg.AppService.HSToken = "hs-token-that-the-homeserver-does-not-have-01"
			}})
		require.ErrorIs(t, err, appservice.ErrHSTokenMismatch)
		assert.Contains(t, env.Log(), "its registration file is not rathaus's")
		assert.Contains(t, env.Log(), "generate-registration")
	})
	apptest.EachHomeserver(t, func(t *testing.T, kind tesths.Kind) {
		_, _, err := apptest.LaunchErr(t, apptest.Options{Homeservers: []tesths.Kind{kind},
			Tweak: func(cfg *config.Config, _ *app.Options) {
				cfg.AppService.ASToken = "as-token-that-the-homeserver-does-not-have-01"
			}})
		require.ErrorIs(t, err, appservice.ErrASTokenUnknown)
		assert.True(t, strings.Contains(err.Error(), "appservice.as_token"), err.Error())
	})
}
