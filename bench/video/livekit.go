package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/rathaus-de/rathaus/video/livekit/livekittest"
)

// livekitTarget is a livekit-server process on loopback, configured as
// the embedded server is (livekittest.StartServer): one UDP port,
// loopback candidates, rooms only when created through the API.
type livekitTarget struct {
	label string
	srv   *livekittest.Server
	room  *lksdk.RoomServiceClient
}

// startLiveKit starts LiveKit with its defaults, or, with gcc, with
// congestion_control.use_send_side_bwe_interceptor: pion's Google
// congestion control and TWCC sequence numbers on every packet to a
// subscriber, the estimator the embedded server uses (LiveKit's default
// takes the subscribers' REMB instead).
func startLiveKit(ctx context.Context, bin string, gcc bool) (*livekitTarget, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("no livekit-server at %s (make livekit): %w", bin, err)
	}
	srv, err := livekittest.StartServer(ctx, bin, livekittest.Options{SendSideBWE: gcc, LogLevel: "error"})
	if err != nil {
		return nil, err
	}
	label := "livekit"
	if gcc {
		label = "livekit-gcc"
	}
	return &livekitTarget{label: label, srv: srv,
		room: lksdk.NewRoomServiceClient(srv.URL, livekittest.Key, livekittest.Secret)}, nil
}

func (t *livekitTarget) name() string { return t.label }
func (t *livekitTarget) pid() int     { return t.srv.PID() }
func (t *livekitTarget) close()       { t.srv.Close() }

func (t *livekitTarget) newCall(ctx context.Context, call string) error {
	_, err := t.room.CreateRoom(ctx, &livekit.CreateRoomRequest{Name: call})
	return err
}

func (t *livekitTarget) connect(call, id string, cb *lksdk.RoomCallback) (*lksdk.Room, error) {
	return lksdk.ConnectToRoom(t.srv.URL, lksdk.ConnectInfo{APIKey: livekittest.Key, APISecret: livekittest.Secret, RoomName: call,
		ParticipantIdentity: id}, cb)
}

// publisher sends the same synthetic VP8 as videotest: frames of three
// packets, a keyframe every 60 frames and after a PLI.
func (t *livekitTarget) publisher(_ context.Context, call string, pps, payload int) (func(), error) {
	room, err := t.connect(call, "publisher", lksdk.NewRoomCallback())
	if err != nil {
		return nil, err
	}
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "publisher")
	if err != nil {
		room.Disconnect()
		return nil, err
	}
	if _, err = room.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{Name: "camera",
		Source: livekit.TrackSource_CAMERA, VideoWidth: 1280, VideoHeight: 720}); err != nil {
		room.Disconnect()
		return nil, err
	}
	stop := make(chan struct{})
	go sendVP8(track, pps, payload, stop)
	return func() { close(stop); room.Disconnect() }, nil
}

func sendVP8(track *webrtc.TrackLocalStaticRTP, pps, size int, stop <-chan struct{}) {
	const perFrame = 3
	fps := max(1, pps/perFrame)
	tick := time.NewTicker(time.Second / time.Duration(fps))
	defer tick.Stop()
	payload := make([]byte, size)
	var seq uint16
	var ts uint32
	for frame := 0; ; frame++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		key := frame%60 == 0
		ts += 90000 / uint32(fps) //nolint:gosec // small
		for i := range perFrame {
			payload[0] = 0
			if i == 0 {
				payload[0] = 0x10
			}
			// The VP8 frame tag (RFC 6386 §9.1) after the descriptor:
			// show_frame, and for a keyframe the start code and 1280×720,
			// so servers that read keyframe sizes (LiveKit) find them.
			payload[1] = 0x11 // P=1: interframe
			if key {
				copy(payload[1:], []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x00, 0x05, 0xd0, 0x02})
			}
			seq++
			p := rtp.Packet{Header: rtp.Header{Version: 2, Marker: i == perFrame-1, SequenceNumber: seq, Timestamp: ts}, Payload: payload}
			if err := track.WriteRTP(&p); err != nil {
				return
			}
		}
	}
}

func (t *livekitTarget) subscriber(_ context.Context, call, id string) (*counter, func(), error) {
	cnt := &counter{}
	cb := lksdk.NewRoomCallback()
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, _ *lksdk.RemoteTrackPublication, _ *lksdk.RemoteParticipant) {
		go func() {
			buf := make([]byte, 1500)
			for {
				if _, _, err := track.Read(buf); err != nil {
					return
				}
				cnt.add()
			}
		}()
	}
	room, err := t.connect(call, id, cb)
	if err != nil {
		return nil, nil, err
	}
	return cnt, room.Disconnect, nil
}
