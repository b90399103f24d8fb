package app_test

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/internal/app"
	"github.com/rathaus-de/rathaus/internal/app/apptest"
	"github.com/rathaus-de/rathaus/internal/tesths"
)

// TestBackPressure: with an inbox bound of one event, transactions that
// arrive while a command waits are refused with a retryable error; the
// homeserver sends them again later, and every command is answered exactly
// once.
func TestBackPressure(t *testing.T) {
	apptest.EachHomeserver(t, func(t *testing.T, kind tesths.Kind) {
		env, _ := apptest.Launch(t, apptest.Options{Homeservers: []tesths.Kind{kind},
			Tweak: func(cfg *config.Config, _ *app.Options) { cfg.AppService.MaxPendingEvents = 1 }})
		ctx := t.Context()
		bob, _, _ := env.HS.RegisterUser(t, "bob", false)
		bot := env.Cfg.BotUserID()
		room := env.RoomWithBot(t, bob)

		var pings []id.EventID
		for range 6 {
			sent, err := bob.SendText(ctx, room, "!rathaus ping")
			require.NoError(t, err)
			pings = append(pings, sent.EventID)
		}
		var replies map[id.EventID][]string
		var err error
		tesths.WaitFor(t, 120*time.Second, "a reply to every ping", func() error {
			replies, err = tesths.Replies(ctx, bob, room, bot)
			if err != nil {
				return err
			}
			for _, p := range pings {
				if len(replies[p]) == 0 {
					return fmt.Errorf("no reply to %s yet", p)
				}
			}
			return nil
		})
		for i, p := range pings {
			assert.Len(t, replies[p], 1, "replies to ping %d", i)
		}
		metrics := apptest.Scrape(t, "http://"+env.Cfg.Metrics.Listen+"/metrics")
		deferred := regexp.MustCompile(`rathaus_appservice_transactions_received_total\{outcome="deferred"\} (\d+)`).FindStringSubmatch(metrics)
		require.NotNil(t, deferred, "deferred transactions are counted")
		n, _ := strconv.Atoi(deferred[1])
		assert.Positive(t, n, "the homeserver was asked to send again")
		assert.Contains(t, env.Log(), "Inbox full")
		t.Logf("%s: %d transactions deferred", kind, n)
	})
}
