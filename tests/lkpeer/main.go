// Command lkpeer is a LiveKit participant for rathaus's tests: it joins a
// LiveKit room with a token (as a citizen's or caseworker's page would),
// optionally publishes a camera (a short VP8 clip in a loop) and a
// microphone, and reports what happens as JSON lines on stdout. It lives in its own module so LiveKit's client SDK
// (and its pion) never enters rathaus's go.mod; video/livekit/livekittest
// builds and drives it.
//
//	lkpeer -url ws://127.0.0.1:7880 -token <jwt> [-publish] [-audio]
//
// With -audio it publishes a microphone of silent Opus frames whose RTP
// audio level (what LiveKit's speaker detection reads) says quiet until a
// line "speak" arrives on stdin, and quiet again after "quiet".
//
// Events: {"event":"connected","identity":…}, {"event":"failed","error":…},
// {"event":"track","from":…,"kind":…}, {"event":"packets","from":…,"n":…}
// (every second while media arrives), {"event":"data","kind":topic,"from":…}
// (a data message; from is "" for the server), {"event":"disconnected","reason":…}.
// It leaves when stdin closes or it is disconnected.
package main

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
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
	publish := flag.Bool("publish", false, "publish a camera: a VP8 clip in a loop")
	audio := flag.Bool("audio", false, "publish a microphone whose level stdin's speak/quiet lines set")
	fps := flag.Int("fps", 30, "video frames a second")
	videos := flag.Int("videos", 0, "a committee call's listener: take the camera video of this many publishers (committee.go)")
	order := flag.String("order", "", "with -videos: the publishers' identities in join order, comma-separated")
	audioFrame := flag.Duration("audio-frame", 20*time.Millisecond, "length of an audio packet (20ms to 60ms)")
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

	var listener *committee
	if *videos > 0 {
		listener = newCommittee(*videos, strings.Split(*order, ","))
	}
	cb := lksdk.NewRoomCallback()
	var counts sync.Map // from identity → *int64 under countMu
	var countMu sync.Mutex
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		from := rp.Identity()
		emit(map[string]any{"event": "track", "from": from, "kind": track.Kind().String()})
		camera := pub.Source() == livekit.TrackSource_CAMERA
		go func() {
			buf := make([]byte, 1500)
			for {
				if _, _, err := track.Read(buf); err != nil {
					return
				}
				if listener != nil && camera {
					listener.packet(from)
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
	if listener != nil {
		cb.OnTrackPublished = func(*lksdk.RemoteTrackPublication, *lksdk.RemoteParticipant) { listener.changed() }
		cb.OnActiveSpeakersChanged = listener.speakers
		cb.OnParticipantDisconnected = func(*lksdk.RemoteParticipant) { listener.changed() }
	}
	room, err := lksdk.ConnectToRoomWithToken(*url, *token, cb, lksdk.WithAutoSubscribe(listener == nil))
	if err != nil {
		emit(map[string]any{"event": "failed", "error": err.Error()})
		os.Exit(1)
	}
	emit(map[string]any{"event": "connected", "identity": room.LocalParticipant.Identity(), "room": room.Name()})
	stop := make(chan struct{})
	if listener != nil {
		listener.mu.Lock()
		listener.room = room
		listener.mu.Unlock()
		listener.changed()
		go listener.work(stop)
		go listener.report(stop)
	}
	if *publish {
		// A keyframe as soon as LiveKit asks (a new subscriber), as a
		// browser's encoder gives one.
		var keyWanted atomic.Bool
		track, err := lksdk.NewLocalSampleTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
			lksdk.WithRTCPHandler(func(p rtcp.Packet) {
				switch p.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					keyWanted.Store(true)
				}
			}))
		if err == nil {
			_, err = room.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{Name: "camera",
				Source: livekit.TrackSource_CAMERA, VideoWidth: 160, VideoHeight: 120})
		}
		if err != nil {
			emit(map[string]any{"event": "failed", "error": "publish: " + err.Error()})
		} else {
			emit(map[string]any{"event": "published"})
			go sendVP8(track, max(1, min(*fps, 60)), &keyWanted, stop)
		}
	}
	var speaking atomic.Bool
	if *audio {
		track, err := lksdk.NewLocalSampleTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2})
		if err == nil {
			_, err = room.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{Name: "microphone",
				Source: livekit.TrackSource_MICROPHONE})
		}
		if err != nil {
			emit(map[string]any{"event": "failed", "error": "publish audio: " + err.Error()})
		} else {
			emit(map[string]any{"event": "published", "kind": "audio"})
			go sendOpus(track, min(max(*audioFrame, 20*time.Millisecond), 60*time.Millisecond), &speaking, stop)
		}
	}
	go func() {
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			switch strings.TrimSpace(in.Text()) {
			case "speak":
				speaking.Store(true)
			case "quiet":
				speaking.Store(false)
			}
		}
		finish()
	}()
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

// clip is the camera picture: 20 frames of 160×120 VP8 that Chromium
// encoded (testdata/makeclip.mjs), a keyframe first.
//
//go:embed testdata/clip.ivf
var clip []byte

// clipFrames returns the clip's frames.
func clipFrames() ([][]byte, error) {
	r, _, err := ivfreader.NewWith(bytes.NewReader(clip))
	if err != nil {
		return nil, err
	}
	var frames [][]byte
	for {
		f, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			return frames, nil
		}
		if err != nil {
			return nil, err
		}
		frames = append(frames, f)
	}
}

// sendVP8 sends the clip in a loop, fps frames a second, and starts it
// over (at its keyframe) when asked (keyWanted, at most five a second).
func sendVP8(track *lksdk.LocalTrack, fps int, keyWanted *atomic.Bool, stop <-chan struct{}) {
	frames, err := clipFrames()
	if err != nil || len(frames) == 0 {
		emit(map[string]any{"event": "failed", "error": fmt.Sprintf("the clip: %v", err)})
		return
	}
	frame := time.Second / time.Duration(fps)
	tick := time.NewTicker(frame)
	defer tick.Stop()
	var lastKey time.Time
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		if i >= len(frames) || (keyWanted.Load() && time.Since(lastKey) > 200*time.Millisecond) {
			i = 0
		}
		if i == 0 {
			keyWanted.Store(false)
			lastKey = time.Now()
		}
		if err := track.WriteSample(media.Sample{Data: frames[i], Duration: frame}, nil); err != nil {
			return
		}
	}
}

// sendOpus sends an Opus packet of silence every frame (20 to 60 ms),
// its RTP audio level -10 dBov while speaking and -127 dBov (silence)
// otherwise.
func sendOpus(track *lksdk.LocalTrack, frame time.Duration, speaking *atomic.Bool, stop <-chan struct{}) {
	// One CELT frame of 20 ms silence (0xfffe), or (code 3, CBR) as many
	// as the packet lasts.
	silence := []byte{0xf8, 0xff, 0xfe}
	if n := int(frame / (20 * time.Millisecond)); n > 1 {
		silence = []byte{0xfb, byte(n)}
		for range n {
			silence = append(silence, 0xff, 0xfe)
		}
	}
	tick := time.NewTicker(frame)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		level := uint8(127)
		if speaking.Load() {
			level = 10
		}
		if err := track.WriteSample(media.Sample{Data: silence, Duration: frame}, &lksdk.SampleWriteOptions{AudioLevel: &level}); err != nil {
			return
		}
	}
}
