package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/video"
	"github.com/rathaus-de/rathaus/video/embedded"
	"github.com/rathaus-de/rathaus/video/videotest"
)

// The embedded server process: the tool starts itself with
// -serve-embedded; the child prints {"url","key","admin"} and serves until
// its stdin closes. Calls are created through a tiny admin endpoint, as
// rathaus's call service would.

type embeddedInfo struct {
	URL   string `json:"url"`
	Key   string `json:"key"`
	Admin string `json:"admin"`
}

func serveEmbedded(cpuProfile string) error {
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err = pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + l.Addr().String()
	b, err := embedded.New(embedded.Options{GrantKeys: [][]byte{key}, ICEUDPAddr: "127.0.0.1:0", IncludeLoopback: true,
		PublicURL: "ws" + strings.TrimPrefix(base, "http") + "/signal", Log: zerolog.Nop(), MaxBitrate: 20_000_000})
	if err != nil {
		return err
	}
	defer b.Close()
	mux := http.NewServeMux()
	mux.Handle("/signal", b)
	mux.HandleFunc("POST /call/{id}", func(w http.ResponseWriter, r *http.Request) {
		if err := b.EnsureCall(r.Context(), video.CallID(r.PathValue("id")), video.Limits{}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	if err := json.NewEncoder(os.Stdout).Encode(embeddedInfo{URL: base + "/signal", Key: hex.EncodeToString(key), Admin: base}); err != nil {
		return err
	}
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the tool closes stdin
	return srv.Close()
}

type embeddedTarget struct {
	cmd  *exec.Cmd
	in   interface{ Close() error }
	info embeddedInfo
	key  []byte
}

func startEmbedded(ctx context.Context, cpuProfile string) (*embeddedTarget, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "-serve-embedded", "-cpuprofile", cpuProfile)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err = cmd.Start(); err != nil {
		return nil, err
	}
	t := &embeddedTarget{cmd: cmd, in: in}
	if err = json.NewDecoder(bufio.NewReader(out)).Decode(&t.info); err != nil {
		t.close()
		return nil, fmt.Errorf("the embedded server did not start: %w", err)
	}
	if t.key, err = hex.DecodeString(t.info.Key); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

func (t *embeddedTarget) name() string { return "embedded" }
func (t *embeddedTarget) pid() int     { return t.cmd.Process.Pid }

func (t *embeddedTarget) close() {
	_ = t.in.Close()
	done := make(chan struct{})
	go func() { _ = t.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = t.cmd.Process.Kill()
		<-done
	}
}

func (t *embeddedTarget) newCall(ctx context.Context, call string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.info.Admin+"/call/"+call, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("creating the call: %s", resp.Status)
	}
	return nil
}

func (t *embeddedTarget) grant(call, who string, rights video.Rights) (string, error) {
	token, _, err := video.MintGrant(t.key, video.CallID(call), video.Identity(who), rights, time.Now(), time.Hour)
	return token, err
}

func (t *embeddedTarget) publisher(ctx context.Context, call string, pps, payload int) (func(), error) {
	g, err := t.grant(call, "publisher", video.Rights{Publish: true, Subscribe: false})
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c, err := videotest.Dial(dctx, t.info.URL+"?call="+call, g, videotest.Options{Video: true, PacketsPerSecond: pps, PayloadSize: payload})
	if err != nil {
		return nil, err
	}
	return c.Close, nil
}

func (t *embeddedTarget) subscriber(ctx context.Context, call, id string) (*counter, func(), error) {
	g, err := t.grant(call, id, video.Rights{Subscribe: true})
	if err != nil {
		return nil, nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	cnt := &counter{}
	c, err := videotest.Dial(dctx, t.info.URL+"?call="+call, g, videotest.Options{OnPacket: func(webrtc.RTPCodecType) { cnt.add() }})
	if err != nil {
		return nil, nil, err
	}
	if c == nil {
		return nil, nil, errors.New("no client")
	}
	return cnt, c.Close, nil
}
