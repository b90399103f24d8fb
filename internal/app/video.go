package app

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus"
	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/video"
	"github.com/rathaus-de/rathaus/video/calls"
	"github.com/rathaus-de/rathaus/video/embedded"
	"github.com/rathaus-de/rathaus/video/turn"
	videopage "github.com/rathaus-de/rathaus/widgets/video"
)

// SignalPath is where the embedded media server's signalling is served on
// the public listener.
const SignalPath = "/video/v1/signal"

// StaffCallPath is the staff call page on the public listener.
const StaffCallPath = videopage.Prefix

// addVideo starts the embedded media server and the call service when
// video is on (video.enabled, which needs guest_chat). The grant key is
// made at each start: a restart ends every call anyway, so no grant has
// to outlive the process.
func (a *App) addVideo() error {
	cfg := a.start
	base := cfg.VideoBaseURL()
	if base == "" {
		return nil
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("failed to make the video grant key: %w", err)
	}
	v := cfg.Video
	iceServers, err := a.startTURN(v.TURN)
	if err != nil {
		return err
	}
	backend, err := embedded.New(embedded.Options{GrantKeys: [][]byte{key}, ICEUDPAddr: v.ICE.UDP, ICETCPAddr: v.ICE.TCP,
		PublicIPs: v.VideoPublicIPs(), IncludeLoopback: v.ICE.IncludeLoopback,
		PublicURL: "ws" + strings.TrimPrefix(base, "http") + SignalPath, TURN: iceServers,
		Log: a.log.With().Str("component", "video").Logger(), Registerer: a.opts.Registry})
	if err != nil {
		return err
	}
	a.videoBackend = backend
	a.calls, err = calls.New(calls.Options{Backend: backend, Cases: a.cases, AS: a.as, Sender: a.sender,
		StaffPageURL: func(room id.RoomID) string { return base + StaffCallPath + "?roomId=" + url.QueryEscape(room.String()) },
		WidgetURL: base + StaffCallPath + "?widgetId=$matrix_widget_id&roomId=$matrix_room_id&userId=$matrix_user_id" +
			"&theme=$org.matrix.msc2873.client_theme&lang=$org.matrix.msc2873.client_language",
		Limits: video.Limits{MaxParticipants: v.Limits.MaxParticipants, MaxPublishers: v.Limits.MaxPublishers,
			MaxBitrate: v.Limits.MaxBitrateKbps * 1000},
		GrantTTL: v.GrantTTL, WaitTimeout: v.WaitTimeout, EmptyTimeout: v.EndWhenEmpty, Log: a.log.With().Str("component", "calls").Logger()})
	if err != nil {
		return err
	}
	if err = a.calls.Register(a.router); err != nil {
		return err
	}
	a.public = append(a.public, publicRoute{pattern: SignalPath, handler: backend})
	return a.addVideoPage()
}

// addVideoPage serves the staff call page, signed in like the ticket
// widget (OpenID at the user's homeserver, the bot's view of the room).
func (a *App) addVideoPage() error {
	verifier, proxies, err := a.widgetSignIn()
	if err != nil {
		return err
	}
	srv, err := videopage.New(videopage.Options{Calls: a.calls, Verifier: verifier, Bot: a.as.BotClient(),
		IsAppserviceUser: a.start.IsOurUser, HomeserverURL: a.start.Homeserver.BrowserURL(), Proxies: proxies,
		Version: rathaus.Version,
		Log:     a.log.With().Str("component", "videopage").Logger()})
	if err != nil {
		return err
	}
	a.public = append(a.public, publicRoute{pattern: videopage.Prefix, handler: srv})
	return nil
}

// startTURN starts the embedded TURN server when configured and returns
// what hands out its credentials with each grant (nil when off). Its
// secret is made at each start, like the grant key: credentials live
// minutes, and a restart ends every call anyway.
func (a *App) startTURN(t config.VideoTURNConfig) (func(video.CallID, video.Identity, time.Duration) []video.ICEServer, error) {
	if !t.Enabled {
		return nil, nil
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("failed to make the TURN secret: %w", err)
	}
	tc := turn.Config{Realm: a.start.Homeserver.ServerName, UDPAddr: t.UDP, TCPAddr: t.TCP, TLSAddr: t.TLS,
		RelayIP: net.ParseIP(t.RelayIP), PublicIP: net.ParseIP(t.PublicIP), PublicHost: t.PublicHost,
		Secrets: [][]byte{secret}, AllowPeers: t.AllowedPeers(), Log: a.log.With().Str("component", "turn").Logger(),
		Registerer: a.opts.Registry}
	if t.TLS != "" {
		cert, err := tls.LoadX509KeyPair(t.TLSCertFile, t.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("failed to load the TURN certificate: %w", err)
		}
		tc.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	srv, err := turn.New(tc)
	if err != nil {
		return nil, err
	}
	a.turn = srv
	return func(_ video.CallID, _ video.Identity, ttl time.Duration) []video.ICEServer {
		// The TURN username is an opaque random id, never the identity:
		// it travels in clear text.
		var b [9]byte
		_, _ = rand.Read(b[:])
		var out []video.ICEServer
		for _, s := range srv.ICEServers(hex.EncodeToString(b[:]), ttl) {
			out = append(out, video.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
		}
		return out
	}, nil
}

// stopVideo ends every call and closes the media ports.
func (a *App) stopVideo() {
	if a.turn != nil {
		if err := a.turn.Close(); err != nil {
			a.log.Warn().Err(err).Msg("Failed to close the TURN server")
		}
	}
	if a.calls != nil {
		a.calls.Close()
	}
	if a.videoBackend != nil {
		if err := a.videoBackend.Close(); err != nil {
			a.log.Warn().Err(err).Msg("Failed to close the media server")
		}
	}
}
