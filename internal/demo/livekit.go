package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/rathaus-de/rathaus/video/livekit/livekittest"
)

// With -livekit (make run VIDEO=livekit) the demo runs LiveKit on loopback
// beside Dendrite and rathaus with its calls on it, rathaus being the
// MatrixRTC authorization service too. config.yaml stays as it is (calls on
// the embedded server); rathaus runs with config.livekit.yaml, made from it
// at each start with LiveKit's address of this run.

// liveKitConfigName is the config rathaus runs with in LiveKit mode.
const liveKitConfigName = "config.livekit.yaml"

// liveKitWebhookPath is where rathaus takes LiveKit's webhooks
// (internal/app.LiveKitWebhookPath).
const liveKitWebhookPath = "/video/v1/livekit/webhook"

// startLiveKit runs LiveKit with its webhooks to rathaus's guest chat
// listener; its log goes to livekit.log in the state directory.
func startLiveKit(ctx context.Context, opts Options, l layout) (*livekittest.Server, error) {
	logFile, err := os.OpenFile(filepath.Join(l.dir, "livekit.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	srv, err := livekittest.StartServer(ctx, opts.LiveKitBin, livekittest.Options{
		WebhookURL: "http://" + opts.ChatListen() + liveKitWebhookPath, Stderr: logFile, LogLevel: "info"})
	if err != nil {
		return nil, fmt.Errorf("failed to start LiveKit (log: %s): %w", logFile.Name(), err)
	}
	return srv, nil
}

// writeLiveKitConfig writes config.livekit.yaml: config.yaml with video on
// and on LiveKit at url, and returns its path.
func writeLiveKitConfig(l layout, url string) (string, error) {
	data, err := os.ReadFile(l.config)
	if err != nil {
		return "", err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil || len(root.Content) == 0 {
		return "", fmt.Errorf("failed to read %s: %w", l.config, err)
	}
	m := root.Content[0]
	for _, kv := range []demoSetting{
		{"video.enabled", "true"},
		{"video.backend", "livekit"},
		{"video.livekit.url", url},
		{"video.livekit.client_url", ""},
		{"video.livekit.api_key", livekittest.Key},
		{"video.livekit.api_secret", livekittest.Secret},
		{"video.livekit.matrix_rtc", "true"},
	} {
		setKey(m, strings.Split(kv.key, "."), kv.value)
	}
	out, err := yaml.Marshal(&root)
	if err != nil {
		return "", err
	}
	path := filepath.Join(l.dir, liveKitConfigName)
	header := "# Written by rathaus-demo at each start in LiveKit mode (make run VIDEO=livekit)\n# from config.yaml; edit config.yaml instead.\n\n"
	return path, os.WriteFile(path, append([]byte(header), out...), 0o600)
}
