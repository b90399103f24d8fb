// Command lkpeer is a LiveKit participant for rathaus's tests: it joins a
// LiveKit room with a token (as a citizen's or caseworker's page would),
// optionally publishes synthetic video, and reports what happens as JSON
// lines on stdout. It lives in its own module so LiveKit's client SDK
// (and its pion) never enters rathaus's go.mod; video/livekit/livekittest
// builds and drives it.
//
//	lkpeer -url ws://127.0.0.1:7880 -token <jwt> [-publish]
//
// Events: {"event":"connected","identity":…}, {"event":"failed","error":…},
// {"event":"track","from":…,"kind":…}, {"event":"packets","from":…,"n":…}
// (every second while media arrives), {"event":"data","kind":topic,"from":…}
// (a data message; from is "" for the server), {"event":"disconnected","reason":…}.
// It leaves when stdin closes or it is disconnected.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"sync"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

var outMu sync.Mutex

func emit(v map[string]any) {
	outMu.Lock()
	defer outMu.Unlock()
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

func main() {
	url := flag.String("url", "", "LiveKit's WebSocket URL")
	token := flag.String("token", "", "the join token")
	publish := flag.Bool("publish", false, "publish a synthetic VP8 camera track")
	verbose := flag.Bool("v", false, "keep the SDK's log on stderr")
	flag.Parse()
	if !*verbose {
		log.SetOutput(io.Discard)
	}
	if *url == "" || *token == "" {
		fmt.Fprintln(os.Stderr, "lkpeer: -url and -token are required")
		os.Exit(2)
	}
	done := make(chan struct{})
	var once sync.Once
	finish := func() { once.Do(func() { close(done) }) }

	cb := lksdk.NewRoomCallback()
	var counts sync.Map // from identity → *int64 under countMu
	var countMu sync.Mutex
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, _ *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		from := rp.Identity()
		emit(map[string]any{"event": "track", "from": from, "kind": track.Kind().String()})
		go func() {
			buf := make([]byte, 1500)
			for {
				if _, _, err := track.Read(buf); err != nil {
					return
				}
				countMu.Lock()
				v, _ := counts.LoadOrStore(from, new(int64))
				*(v.(*int64))++
				countMu.Unlock()
			}
		}()
	}
	cb.OnDataPacket = func(data lksdk.DataPacket, params lksdk.DataReceiveParams) {
		if u, ok := data.(*lksdk.UserDataPacket); ok {
			emit(map[string]any{"event": "data", "kind": u.Topic, "from": params.SenderIdentity})
		}
	}
	cb.OnDisconnectedWithReason = func(reason lksdk.DisconnectionReason) {
		emit(map[string]any{"event": "disconnected", "reason": string(reason)})
		finish()
	}
	room, err := lksdk.ConnectToRoomWithToken(*url, *token, cb, lksdk.WithAutoSubscribe(true))
	if err != nil {
		emit(map[string]any{"event": "failed", "error": err.Error()})
		os.Exit(1)
	}
	emit(map[string]any{"event": "connected", "identity": room.LocalParticipant.Identity(), "room": room.Name()})
	stop := make(chan struct{})
	if *publish {
		track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "camera")
		if err == nil {
			_, err = room.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{Name: "camera",
				Source: livekit.TrackSource_CAMERA, VideoWidth: 640, VideoHeight: 360})
		}
		if err != nil {
			emit(map[string]any{"event": "failed", "error": "publish: " + err.Error()})
		} else {
			emit(map[string]any{"event": "published"})
			go sendVP8(track, stop)
		}
	}
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); finish() }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			close(stop)
			room.Disconnect()
			return
		case <-tick.C:
			countMu.Lock()
			counts.Range(func(k, v any) bool {
				if n := *(v.(*int64)); n > 0 {
					emit(map[string]any{"event": "packets", "from": k, "n": n})
				}
				return true
			})
			countMu.Unlock()
		}
	}
}

// sendVP8 sends 30 frames a second of three packets each, a keyframe
// every 30 frames, with a VP8 frame tag LiveKit can read sizes from.
func sendVP8(track *webrtc.TrackLocalStaticRTP, stop <-chan struct{}) {
	const perFrame, fps = 3, 30
	tick := time.NewTicker(time.Second / fps)
	defer tick.Stop()
	payload := make([]byte, 800)
	var seq uint16
	var ts uint32
	for frame := 0; ; frame++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		key := frame%fps == 0
		ts += 90000 / fps
		for i := range perFrame {
			payload[0] = 0
			if i == 0 {
				payload[0] = 0x10
			}
			payload[1] = 0x11
			if key {
				copy(payload[1:], []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01})
			}
			seq++
			p := rtp.Packet{Header: rtp.Header{Version: 2, Marker: i == perFrame-1, SequenceNumber: seq, Timestamp: ts}, Payload: payload}
			if err := track.WriteRTP(&p); err != nil {
				return
			}
		}
	}
}
