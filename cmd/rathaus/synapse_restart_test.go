package main_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	mauas "maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/internal/tesths"
)

// TestSynapseRestartBetweenSendAndRetry: the bot's reply is created on
// Synapse but never confirmed, rathaus is killed with SIGKILL, and Synapse
// restarts before rathaus retries. Synapse has forgotten the transaction id
// by then (TestSynapseForgetsAppserviceTxnIDsOnRestart), so a plain resend
// under the same id would post the reply twice; rathaus's look into the
// room before resending (appservice.Sender, the NOTSPEC in
// appservice/outbox.go) finds it, and the room holds it once.
func TestSynapseRestartBetweenSendAndRetry(t *testing.T) {
	var proxy *holdingProxy
	setup := setupRathaus(t, tesths.Synapse, nil, func(hsURL string) string {
		p, proxyURL := newHoldingProxy(t, hsURL)
		proxy = p
		return proxyURL
	})
	hs, proc := setup.hs, setup.proc
	countInbox := inboxCounter(t, setup.dbPath)
	proc.start(t)

	ctx := context.Background()
	alice, _, _ := hs.RegisterUser(t, "alice", false)
	bot := hs.UserID("rathaus")
	created, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{bot}})
	require.NoError(t, err)
	room := created.RoomID
	waitJoined(t, alice, room, bot)
	replies := func() int {
		t.Helper()
		got, err := tesths.Replies(ctx, alice, room, bot)
		require.NoError(t, err)
		n := 0
		for _, bodies := range got {
			n += len(bodies)
		}
		return n
	}

	// The reply reaches Synapse, rathaus never hears back, and dies.
	proxy.hold.Store(true)
	ping, err := alice.SendText(ctx, room, "!rathaus ping")
	require.NoError(t, err)
	tesths.WaitFor(t, 30*time.Second, "the bot's reply to be created but unconfirmed", func() error {
		if n := proxy.stalled.Load(); n != 1 {
			return fmt.Errorf("%d sends stalled", n)
		}
		return nil
	})
	proc.kill(t)
	t.Logf("held: %v", proxy.heldSends())
	proxy.releaseAll()
	// Otherwise the test would prove nothing: the reply exists, and the
	// ping waits in the inbox for a retry.
	require.Equal(t, 1, replies(), "the held reply is in the room")
	require.Positive(t, countInbox("pending"), "the ping is still pending")

	// Synapse forgets its send transaction ids, then rathaus retries.
	hs.Restart(t)
	proc.start(t)
	tesths.WaitFor(t, 60*time.Second, "the ping to be handled after both restarts", func() error {
		if n := countInbox("pending"); n > 0 {
			return fmt.Errorf("%d pending", n)
		}
		return nil
	})
	got, err := tesths.Replies(ctx, alice, room, bot)
	require.NoError(t, err)
	assert.Len(t, got[ping.EventID], 1, "replies to the ping")
	assert.Equal(t, 1, replies(), "replies in the room")
	assert.Equal(t, 1, strings.Count(proc.log(), "Found an unconfirmed send in the room"),
		"the unconfirmed reply was found instead of sent again")
	assert.Zero(t, countInbox("parked"), "no message parked")
}

// TestSynapseForgetsAppserviceTxnIDsOnRestart pins down the Synapse fact
// that keeps rathaus's look into the room before resending (the NOTSPEC in
// appservice/outbox.go) needed on Synapse too: a send by an appservice,
// repeated with the same transaction id after Synapse restarted, creates a
// second event. Synapse 1.163 keeps an appservice's send txn ids in memory
// only (HttpTransactionCache, 30-60 min); it persists a txn id only for a
// request made with a device (table event_txn_id_device_id, 24 h), and
// rathaus sends as the appservice, without a device. So a user's repeat
// after the restart is deduplicated, which is also the control that the
// restart kept the database. On Dendrite the equivalent fact is described
// in appservice/outbox.go.
func TestSynapseForgetsAppserviceTxnIDsOnRestart(t *testing.T) {
	const asToken = "as-token-txnid-probe"
	hs := tesths.Start(t, tesths.Options{
		Kind: tesths.Synapse,
		Appservices: func(serverName string) []*mauas.Registration {
			reg := &mauas.Registration{
				ID:              "txnid-probe",
				URL:             "http://127.0.0.1:9", // nothing listens: pushes fail, which this test ignores
				AppToken:        asToken,
				ServerToken:     "hs-token-txnid-probe",
				SenderLocalpart: "probe",
			}
			reg.Namespaces.UserIDs.Register(regexp.MustCompile(`@probe_.*:`+regexp.QuoteMeta(serverName)), true)
			return []*mauas.Registration{reg}
		},
	})
	ctx := t.Context()
	alice, _, _ := hs.RegisterUser(t, "alice", false)
	// The appservice's own user, as rathaus's bot sends: the as_token, no
	// device.
	probe, err := mautrix.NewClient(hs.URL, hs.UserID("probe"), asToken)
	require.NoError(t, err)
	created, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	require.NoError(t, err)
	room := created.RoomID
	_, err = probe.JoinRoomByID(ctx, room)
	require.NoError(t, err)

	put := func(cli *mautrix.Client, txnID, body string) id.EventID {
		t.Helper()
		resp, err := cli.SendMessageEvent(ctx, room, event.EventMessage,
			&event.MessageEventContent{MsgType: event.MsgText, Body: body}, mautrix.ReqSendEvent{TransactionID: txnID})
		require.NoError(t, err)
		return resp.EventID
	}
	const asBody, userBody = "appservice send", "user send"
	asFirst := put(probe, "txn-appservice", asBody)
	userFirst := put(alice, "txn-user", userBody)
	// The control: before the restart a repeat is deduplicated.
	require.Equal(t, asFirst, put(probe, "txn-appservice", asBody), "the appservice's repeat before the restart")
	require.Equal(t, userFirst, put(alice, "txn-user", userBody), "the user's repeat before the restart")

	hs.Restart(t)
	asAgain := put(probe, "txn-appservice", asBody)
	userAgain := put(alice, "txn-user", userBody)
	t.Logf("appservice: %s, after the restart %s; user: %s, after the restart %s", asFirst, asAgain, userFirst, userAgain)
	assert.NotEqual(t, asFirst, asAgain, "the appservice's repeat after the restart creates a new event")
	assert.Equal(t, userFirst, userAgain, "the user's repeat after the restart is deduplicated (persisted per device)")

	msgs, err := alice.Messages(ctx, room, "", "", mautrix.DirectionBackward, nil, 100)
	require.NoError(t, err)
	bodies := map[string]int{}
	for _, evt := range msgs.Chunk {
		if evt.Type == event.EventMessage {
			_ = evt.Content.ParseRaw(evt.Type)
			bodies[evt.Content.AsMessage().Body]++
		}
	}
	assert.Equal(t, 2, bodies[asBody], "the appservice's message in the room")
	assert.Equal(t, 1, bodies[userBody], "the user's message in the room")
}
