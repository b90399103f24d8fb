package main_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/rathaus-de/rathaus/internal/devhs"
	"github.com/rathaus-de/rathaus/internal/guestclient"
	"github.com/rathaus-de/rathaus/internal/tesths"
)

// guestChatConfig is the guest chat section for a free loopback port.
func guestChatConfig(t *testing.T) (yaml, base string) {
	t.Helper()
	// Below the kernel's ephemeral range: no outgoing connection takes
	// the port before rathaus binds it.
	ports, err := devhs.FreePorts(1)
	require.NoError(t, err)
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	return fmt.Sprintf("guest_chat:\n  enabled: true\n  listen: %q\n  pow_difficulty: 10\n", addr), "http://" + addr
}

// sendUntilAccepted sends like the page does: the same txn_id again after
// every failure, until the server accepts it.
func sendUntilAccepted(t *testing.T, c *guestclient.Client, caseID, txn, body string) {
	t.Helper()
	tesths.WaitFor(t, 90*time.Second, "message "+txn+" to be accepted", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, err := c.Send(ctx, caseID, txn, body)
		if err != nil {
			return err
		} else if resp.Status != 200 {
			return fmt.Errorf("%d %s", resp.Status, resp.Body)
		}
		return nil
	})
}

// TestGuestChatSurvivesKill9: rathaus is killed while a citizen and a
// caseworker are chatting — once exactly while the citizen's message is
// created on the homeserver but not confirmed, and staff keep writing
// while it is down. After the restart nothing is lost in either direction
// and nothing is duplicated. It runs on each homeserver kind.
func TestGuestChatSurvivesKill9(t *testing.T) {
	eachKind(t, func(t *testing.T, kind tesths.Kind) {
		var proxy *holdingProxy
		g := startGuestSetup(t, kind, guestOptions{Proxy: &proxy})
		proc, anna := g.proc, g.anna
		ctx := context.Background()

		citizen := guestclient.New(g.base)
		_, err := citizen.StartSession(ctx)
		require.NoError(t, err)
		c, err := citizen.OpenCase(ctx, guestclient.OpenRequest{Department: "bauamt", Question: "Frage 0", TxnID: "citizen-000"})
		require.NoError(t, err)
		room := g.claim(t, c.Reference)

		stream, err := citizen.Stream(ctx, c.ID, 0)
		require.NoError(t, err)
		seen := map[string]int{} // body → times seen on the stream
		var lastID int64
		drain := func(s *guestclient.Stream, want func() bool) {
			t.Helper()
			deadline := time.After(60 * time.Second)
			for !want() {
				select {
				case e, ok := <-s.Events:
					if !ok {
						return
					}
					if e.ID > 0 {
						require.Greater(t, e.ID, lastID, "no event twice, none out of order")
						lastID = e.ID
					}
					if e.Name == "message" {
						seen[fmt.Sprint(e.Data["from"], ":", e.Data["body"])]++
					}
				case <-deadline:
					t.Fatalf("stream: still waiting; seen %v\n%s", seen, proc.log())
				}
			}
		}
		for i := 1; i <= 3; i++ {
			sendUntilAccepted(t, citizen, c.ID, fmt.Sprintf("citizen-%03d", i), fmt.Sprintf("Bürger %d", i))
			_, err = anna.SendText(ctx, room, fmt.Sprintf("Amt %d", i))
			require.NoError(t, err)
		}
		drain(stream, func() bool { return seen["staff:Amt 3"] > 0 && seen["citizen:Bürger 3"] > 0 })

		// The citizen's next message is created on the homeserver, but
		// rathaus never hears back: kill it in exactly that moment.
		// Only the citizen's ghost: a bot notice in the same moment passes.
		proxy.senderPrefix = "@_rathaus_guest_"
		proxy.hold.Store(true)
		stalled := make(chan error, 1)
		go func() {
			_, err := citizen.Send(ctx, c.ID, "citizen-004", "Bürger 4")
			stalled <- err
		}()
		tesths.WaitFor(t, 30*time.Second, "the citizen's send to stall", func() error {
			if proxy.stalled.Load() == 0 {
				return fmt.Errorf("not yet")
			}
			return nil
		})
		proc.kill(t)
		t.Logf("held: %v", proxy.heldSends())
		proxy.releaseAll()
		assert.Error(t, <-stalled, "the page saw the send fail")
		drain(stream, func() bool { return true })
		// Staff keep writing while rathaus is down.
		for i := 4; i <= 6; i++ {
			_, err = anna.SendText(ctx, room, fmt.Sprintf("Amt %d", i))
			require.NoError(t, err)
		}

		proc.start(t)
		sendUntilAccepted(t, citizen, c.ID, "citizen-004", "Bürger 4") // the page's retry
		for i := 5; i <= 6; i++ {
			sendUntilAccepted(t, citizen, c.ID, fmt.Sprintf("citizen-%03d", i), fmt.Sprintf("Bürger %d", i))
		}
		resumed, err := citizen.Stream(ctx, c.ID, lastID)
		require.NoError(t, err)
		defer resumed.Close()
		drain(resumed, func() bool { return seen["staff:Amt 6"] > 0 && seen["citizen:Bürger 6"] > 0 })

		for i := 0; i <= 6; i++ {
			body := fmt.Sprintf("Bürger %d", i)
			if i == 0 {
				body = "Frage 0"
			}
			assert.Equal(t, 1, seen["citizen:"+body], "%q on the citizen's stream", body)
			if i > 0 {
				assert.Equal(t, 1, seen[fmt.Sprintf("staff:Amt %d", i)], "staff message %d on the citizen's stream", i)
			}
		}
		msgs, err := anna.Messages(ctx, room, "", "", mautrix.DirectionBackward, nil, 200)
		require.NoError(t, err)
		inRoom := map[string]int{}
		for _, evt := range msgs.Chunk {
			if evt.Type == event.EventMessage && evt.Sender != anna.UserID {
				_ = evt.Content.ParseRaw(evt.Type)
				inRoom[evt.Content.AsMessage().Body]++
			}
		}
		for i := 1; i <= 6; i++ {
			assert.Equal(t, 1, inRoom[fmt.Sprintf("Bürger %d", i)], "citizen message %d in the room", i)
		}
		assert.Equal(t, 1, inRoom["Frage 0"])
		// As in TestKill9LosesNothing, the homeserver would deduplicate a
		// blind resend here too; the log shows that rathaus looked first.
		assert.NotEmpty(t, linesContaining(proc.log(), "Found an unconfirmed send in the room"), "the held send was found, not sent again")
		assert.Empty(t, linesContaining(proc.log(), "Bürger"), "message bodies are not logged")
	})
}
