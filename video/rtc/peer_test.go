package rtc_test

import (
	"net"
	"sync"
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/rathaus-de/rathaus/video/rtc"
	"github.com/rathaus-de/rathaus/video/signal"
)

// A held peer offers nothing until Release, so the offer a client joined
// with is answered first; what was asked for meanwhile goes out then.
func TestHeldPeerOffersAfterRelease(t *testing.T) {
	udp, err := (&net.ListenConfig{}).ListenPacket(t.Context(), "udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	engine, err := rtc.NewEngine(rtc.Config{UDP: udp, IncludeLoopback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()

	var mu sync.Mutex
	var sent []signal.SessionDescription
	peer, err := engine.NewPeer(rtc.PeerOptions{Hold: true, Send: func(m signal.Message) {
		if m.Type == signal.TypeSDP {
			mu.Lock()
			sent = append(sent, *m.Description)
			mu.Unlock()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	descriptions := func() []signal.SessionDescription {
		mu.Lock()
		defer mu.Unlock()
		return append([]signal.SessionDescription(nil), sent...)
	}

	// Someone else's track turns up before the client's offer is applied.
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "other")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := peer.AddTrack(track); err != nil {
		t.Fatal(err)
	}
	if got := descriptions(); len(got) != 0 {
		t.Fatalf("a held peer sent %d descriptions, want none", len(got))
	}

	// The client's join offer is answered, not taken for a collision.
	client, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if _, err := client.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	offer, err := client.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	if err := peer.HandleSDP(signal.SessionDescription{Type: "offer", SDP: offer.SDP}); err != nil {
		t.Fatal(err)
	}
	got := descriptions()
	if len(got) != 1 || got[0].Type != "answer" {
		t.Fatalf("after the join offer the peer sent %+v, want one answer", got)
	}

	// Released, it offers the track it holds.
	peer.Release()
	got = descriptions()
	if len(got) != 2 || got[1].Type != "offer" {
		t.Fatalf("after Release the peer sent %d descriptions (%+v), want the answer and an offer", len(got), got)
	}
	if offers, answers := peer.Negotiations(); offers != 1 || answers != 1 {
		t.Errorf("negotiations: %d offers, %d answers; want 1 and 1", offers, answers)
	}
}
