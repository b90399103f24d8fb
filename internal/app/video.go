package app

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"maunium.net/go/mautrix"
	mauas "maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus"
	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/video"
	"github.com/rathaus-de/rathaus/video/calls"
	"github.com/rathaus-de/rathaus/video/embedded"
	"github.com/rathaus-de/rathaus/video/livekit"
	"github.com/rathaus-de/rathaus/video/matrixrtc"
	"github.com/rathaus-de/rathaus/video/turn"
	videopage "github.com/rathaus-de/rathaus/widgets/video"
)

// SignalPath is where the embedded media server's signalling is served on
// the public listener.
const SignalPath = "/video/v1/signal"

// StaffCallPath is the staff call page on the public listener.
const StaffCallPath = videopage.Prefix

// LiveKitWebhookPath is where LiveKit's webhooks are taken on the public
// listener (video.backend livekit).
const LiveKitWebhookPath = "/video/v1/livekit/webhook"

// MatrixRTCPath is the MatrixRTC authorization service on the public
// listener (video.livekit.matrix_rtc).
const MatrixRTCPath = "/matrixrtc"

// mediaBackend is a video.Backend the app stops at shutdown.
type mediaBackend interface {
	video.Backend
	Close() error
}

// addVideo starts the media backend and the call service when video is
// on (video.enabled, which needs guest_chat).
func (a *App) addVideo(ctx context.Context) error {
	cfg := a.start
	base := cfg.VideoBaseURL()
	if base == "" {
		return nil
	}
	v := cfg.Video
	var (
		backend  mediaBackend
		lk       *livekit.Backend
		liveKitC *calls.Service // the call service, once made, for the backend's hooks
		err      error
	)
	if v.Backend == "livekit" {
		lk, err = livekit.New(livekit.Options{URL: v.LiveKit.URL, ClientURL: v.LiveKit.ClientURL,
			Credentials: livekit.Credentials{Key: v.LiveKit.APIKey, Secret: []byte(v.LiveKit.APISecret)},
			RoomName:    func(call video.CallID) (string, error) { return liveKitC.LiveKitRoom(call) },
			Alias:       func(call video.CallID, who video.Identity) string { return liveKitC.MediaIdentity(call, who) },
			Admit: func(ctx context.Context, call video.CallID, identity string) bool {
				return liveKitC.MayStay(ctx, call, identity)
			},
			Log: a.log.With().Str("component", "livekit").Logger(), Registerer: a.opts.Registry})
		if err != nil {
			return err
		}
		checkCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err = lk.Check(checkCtx)
		cancel()
		if err != nil {
			return fmt.Errorf("video.livekit: %w", err)
		}
		backend = lk
		a.public = append(a.public, publicRoute{pattern: "POST " + LiveKitWebhookPath, handler: lk.WebhookHandler()})
	} else {
		if backend, err = a.embeddedBackend(base); err != nil {
			return err
		}
	}
	a.videoBackend = backend
	var rtc *calls.MatrixRTCOptions
	if lk != nil && v.LiveKit.MatrixRTC {
		rtc = &calls.MatrixRTCOptions{ServiceURL: base + MatrixRTCPath}
	}
	a.calls, err = calls.New(calls.Options{Backend: backend, Cases: a.cases, AS: a.as, Sender: a.sender, MatrixRTC: rtc,
		StaffPageURL: func(room id.RoomID) string { return base + StaffCallPath + "?roomId=" + url.QueryEscape(room.String()) },
		WidgetURL: base + StaffCallPath + "?widgetId=$matrix_widget_id&roomId=$matrix_room_id&userId=$matrix_user_id" +
			"&theme=$org.matrix.msc2873.client_theme&lang=$org.matrix.msc2873.client_language",
		Limits: video.Limits{MaxParticipants: v.Limits.MaxParticipants, MaxPublishers: v.Limits.MaxPublishers,
			MaxBitrate: v.Limits.MaxBitrateKbps * 1000},
		GrantTTL: v.GrantTTL, WaitTimeout: v.WaitTimeout, EmptyTimeout: v.EndWhenEmpty, Log: a.log.With().Str("component", "calls").Logger()})
	if err != nil {
		return err
	}
	liveKitC = a.calls
	if err = a.calls.Register(a.router); err != nil {
		return err
	}
	if lk != nil && v.LiveKit.MatrixRTC {
		if err = a.addMatrixRTC(base, lk); err != nil {
			return err
		}
	}
	return a.addVideoPage()
}

// addMatrixRTC serves the MatrixRTC authorization service, with delayed
// leaves handed over to rathaus on its own homeserver.
func (a *App) addMatrixRTC(base string, lk *livekit.Backend) error {
	cfg := a.start
	verifier, _, err := a.widgetSignIn()
	if err != nil {
		return err
	}
	urls := []string{cfg.Homeserver.URL}
	if pub := cfg.Homeserver.BrowserURL(); pub != "" && pub != cfg.Homeserver.URL {
		urls = append(urls, pub)
	}
	leaves, err := matrixrtc.NewLeaves(matrixrtc.LeavesOptions{HomeserverURLs: urls, ServerName: cfg.Homeserver.ServerName,
		ASToken: cfg.AppService.ASToken, Backend: lk, Log: a.log.With().Str("component", "matrixrtc").Logger()})
	if err != nil {
		return err
	}
	a.leaves = leaves
	svc, err := matrixrtc.New(matrixrtc.Options{Verifier: verifier, Members: botMembers{a.as.BotIntent()}, Calls: a.calls,
		Granter: lk, ServiceURL: base + MatrixRTCPath, IsAppserviceUser: cfg.IsOurUser, Leaves: leaves,
		Log: a.log.With().Str("component", "matrixrtc").Logger()})
	if err != nil {
		return err
	}
	a.public = append(a.public, publicRoute{pattern: MatrixRTCPath + "/", handler: http.StripPrefix(MatrixRTCPath, svc.Handler())})
	return nil
}

// botMembers answers membership as the bot sees the room.
type botMembers struct{ bot *mauas.IntentAPI }

func (m botMembers) Joined(ctx context.Context, room id.RoomID, user id.UserID) (bool, error) {
	var member event.MemberEventContent
	err := m.bot.StateEvent(ctx, room, event.StateMember, user.String(), &member)
	if errors.Is(err, mautrix.MNotFound) || errors.Is(err, mautrix.MForbidden) {
		return false, nil
	}
	return err == nil && member.Membership == event.MembershipJoin, err
}

// embeddedBackend starts the media server inside rathaus. The grant key
// is made at each start: a restart ends every call anyway, so no grant
// has to outlive the process.
func (a *App) embeddedBackend(base string) (*embedded.Backend, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("failed to make the video grant key: %w", err)
	}
	v := a.start.Video
	iceServers, err := a.startTURN(v.TURN)
	if err != nil {
		return nil, err
	}
	backend, err := embedded.New(embedded.Options{GrantKeys: [][]byte{key}, ICEUDPAddr: v.ICE.UDP, ICETCPAddr: v.ICE.TCP,
		PublicIPs: v.VideoPublicIPs(), IncludeLoopback: v.ICE.IncludeLoopback,
		PublicURL: "ws" + strings.TrimPrefix(base, "http") + SignalPath, TURN: iceServers,
		Log: a.log.With().Str("component", "video").Logger(), Registerer: a.opts.Registry})
	if err != nil {
		return nil, err
	}
	a.public = append(a.public, publicRoute{pattern: SignalPath, handler: backend})
	return backend, nil
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
		MediaOrigins: a.start.Video.MediaOrigins(),
		Version:      rathaus.Version,
		Log:          a.log.With().Str("component", "videopage").Logger()})
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
	if a.leaves != nil {
		a.leaves.Close()
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
