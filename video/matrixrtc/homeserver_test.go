package matrixrtc_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice/openid"
	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/video"
	"github.com/rathaus-de/rathaus/video/livekit/livekittest"
	"github.com/rathaus-de/rathaus/video/matrixrtc"
)

// clientMembers answers membership from a member's client, as the bot
// does in rathaus.
type clientMembers struct{ cli *mautrix.Client }

func (m clientMembers) Joined(ctx context.Context, room id.RoomID, user id.UserID) (bool, error) {
	var member event.MemberEventContent
	err := m.cli.StateEvent(ctx, room, event.StateMember, user.String(), &member)
	if errors.Is(err, mautrix.MNotFound) {
		return false, nil
	}
	return err == nil && member.Membership == event.MembershipJoin, err
}

// callMember is MatrixRTC's membership state event type.
var callMember = event.Type{Type: "org.matrix.msc3401.call.member", Class: event.StateEventType}

// TestOnRealHomeservers asks for LiveKit tokens with real OpenID tokens
// of Synapse (the case room's server) and Dendrite (another server), on a
// real LiveKit, and hands a delayed leave over to rathaus on Synapse.
func TestOnRealHomeservers(t *testing.T) {
	ctx := t.Context()
	hss := tesths.StartMixed(t, tesths.Options{Kind: tesths.Synapse}, tesths.Options{Kind: tesths.Dendrite})
	syn, den := hss[0], hss[1]
	ver, err := openid.New(openid.Options{Logger: zerolog.Nop(), ExtraRootCAs: []*x509.Certificate{syn.Certificate(t), den.Certificate(t)},
		AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	if err != nil {
		t.Fatal(err)
	}
	lead, leadID, _ := syn.RegisterUser(t, "lead", false)
	annaCli, anna, _ := syn.RegisterUser(t, "anna", false)
	benCli, ben, _ := syn.RegisterUser(t, "ben", false)
	carlaCli, carla, _ := syn.RegisterUser(t, "carla", false)
	doraCli, dora, _ := den.RegisterUser(t, "dora", false)
	created, err := lead.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Name: "Fall 2026-0042",
		Invite: []id.UserID{anna, ben}})
	if err != nil {
		t.Fatal(err)
	}
	caseRoom := created.RoomID
	for _, cli := range []*mautrix.Client{annaCli, benCli} {
		if _, err = cli.JoinRoomByID(ctx, caseRoom); err != nil {
			t.Fatal(err)
		}
	}
	var pl event.PowerLevelsEventContent
	if err = lead.StateEvent(ctx, caseRoom, event.StatePowerLevels, "", &pl); err != nil {
		t.Fatal(err)
	}
	pl.Events[callMember.Type] = 0
	if _, err = lead.SendStateEvent(ctx, caseRoom, event.StatePowerLevels, "", &pl); err != nil {
		t.Fatal(err)
	}

	calls := &testCalls{rooms: map[id.RoomID]video.CallID{caseRoom: "case-42"}, closed: map[id.RoomID]bool{},
		staff: map[id.UserID]bool{anna: true, leadID: true}}
	_, backend := newBackend(t, calls)
	leaves, err := matrixrtc.NewLeaves(matrixrtc.LeavesOptions{HomeserverURLs: []string{syn.URL}, ServerName: syn.ServerName,
		Backend: backend, Log: zerolog.New(zerolog.NewTestWriter(t))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(leaves.Close)
	svc, err := matrixrtc.New(matrixrtc.Options{Verifier: ver, Members: clientMembers{lead}, Calls: calls, Granter: backend,
		Leaves: leaves, Log: zerolog.New(zerolog.NewTestWriter(t))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(srv.Close)
	openidToken := func(cli *mautrix.Client) string {
		resp, err := cli.RequestOpenIDToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return resp.AccessToken
	}

	// The caseworker: a token for Element Call's LiveKit room of the
	// case room, which LiveKit takes.
	annaToken := openidToken(annaCli)
	a := post(t, srv, "/get_token", tokenRequest(caseRoom, matrixrtc.MainSlot, annaToken, syn.ServerName, anna, "ANNADEV"))
	if a.status != http.StatusOK {
		t.Fatalf("anna's token: %d %v", a.status, a.body)
	}
	c := claims(t, a.body["jwt"].(string))
	if want := livekitAlias(caseRoom); c.Video.Room != want || c.Subject != anna.String()+":ANNADEV" || c.Video.RoomCreate {
		t.Errorf("claims %+v, want room %s", c, want)
	}
	peer := livekittest.Join(t, a.body["url"].(string), a.body["jwt"].(string), livekittest.PeerOptions{})
	peer.Await("connected", 15*time.Second)

	for _, tc := range []struct {
		name    string
		body    map[string]any
		status  int
		errcode string
	}{
		{"member, not a caseworker", tokenRequest(caseRoom, matrixrtc.MainSlot, openidToken(benCli), syn.ServerName, ben, "BEN"), 403, "M_FORBIDDEN"},
		{"not a member", tokenRequest(caseRoom, matrixrtc.MainSlot, openidToken(carlaCli), syn.ServerName, carla, "CARLA"), 403, "M_FORBIDDEN"},
		{"another server's user claiming a local user", tokenRequest(caseRoom, matrixrtc.MainSlot, openidToken(doraCli), den.ServerName, anna, "DORA"), 401, "M_UNAUTHORIZED"},
		{"another server's token named as the local server's", tokenRequest(caseRoom, matrixrtc.MainSlot, openidToken(doraCli), syn.ServerName, anna, "DORA"), 401, "M_UNAUTHORIZED"},
		{"the local token named as another server's", tokenRequest(caseRoom, matrixrtc.MainSlot, annaToken, den.ServerName, anna, "ANNADEV"), 401, "M_UNAUTHORIZED"},
		{"another server's user, not in the room", tokenRequest(caseRoom, matrixrtc.MainSlot, openidToken(doraCli), den.ServerName, dora, "DORA"), 403, "M_FORBIDDEN"},
	} {
		a := post(t, srv, "/get_token", tc.body)
		if a.status != tc.status || a.errcode() != tc.errcode {
			t.Errorf("%s: %d %s, want %d %s (%v)", tc.name, a.status, a.errcode(), tc.status, tc.errcode, a.body)
		}
	}
	if a := post(t, srv, "/get_token", `{"room_id": 42}`); a.status != http.StatusBadRequest || a.errcode() != "M_BAD_JSON" {
		t.Errorf("bad JSON: %d %v", a.status, a.body)
	}

	// The delayed leave: anna's client publishes her membership and a
	// delayed empty one (4 s), then hands the delay over. rathaus keeps
	// it from firing while she is in the call and sends it when she
	// leaves LiveKit.
	stateKey := "_" + anna.String() + "_ANNADEV"
	if _, err = annaCli.SendStateEvent(ctx, caseRoom, callMember, stateKey, map[string]any{
		"application": "m.call", "call_id": "", "scope": "m.room", "device_id": "ANNADEV",
		"focus_active":   map[string]any{"type": "livekit", "focus_selection": "oldest_membership"},
		"foci_preferred": []any{map[string]any{"type": "livekit", "livekit_service_url": srv.URL, "livekit_alias": string(caseRoom)}},
	}); err != nil {
		t.Fatal(err)
	}
	delayed, err := annaCli.SendStateEvent(ctx, caseRoom, callMember, stateKey, map[string]any{},
		mautrix.ReqSendEvent{UnstableDelay: 4 * time.Second})
	if err != nil {
		t.Fatalf("delayed leave: %v", err)
	}
	if delayed.UnstableDelayID == "" {
		t.Fatal("Synapse gave no delay id: delayed events are off")
	}
	body := tokenRequest(caseRoom, matrixrtc.MainSlot, openidToken(annaCli), syn.ServerName, anna, "ANNADEV")
	body["delay_id"], body["delay_timeout"] = string(delayed.UnstableDelayID), 4000
	body["delay_cs_api_url"] = "https://evil.example"
	if a := post(t, srv, "/delegate_delayed_leave", body); a.status != http.StatusForbidden {
		t.Errorf("delegation to a foreign homeserver: %d %v", a.status, a.body)
	}
	body["delay_cs_api_url"] = syn.URL
	if a := post(t, srv, "/delegate_delayed_leave", body); a.status != http.StatusOK {
		t.Fatalf("delegate_delayed_leave: %d %v", a.status, a.body)
	}
	membership := func() map[string]any {
		var content map[string]any
		if err := lead.StateEvent(ctx, caseRoom, callMember, stateKey, &content); err != nil {
			t.Fatal(err)
		}
		return content
	}
	time.Sleep(7 * time.Second) // past the 4 s the homeserver would wait
	if m := membership(); len(m) == 0 {
		t.Fatal("the delayed leave fired while anna was in the call: rathaus did not restart it")
	}
	left := time.Now()
	peer.Leave()
	tesths.WaitFor(t, 10*time.Second, "the delayed leave to be sent", func() error {
		if len(membership()) != 0 {
			return errors.New("still a member")
		}
		return nil
	})
	if d := time.Since(left); d > 3*time.Second {
		t.Errorf("the leave came %s after anna left LiveKit; rathaus should send it at once", d)
	} else {
		t.Logf("the leave came %s after anna left LiveKit", d.Round(time.Millisecond))
	}
}
