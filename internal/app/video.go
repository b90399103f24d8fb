package app

import (
	"crypto/rand"
	"fmt"
	"net/url"
	"strings"

	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/video"
	"github.com/rathaus-de/rathaus/video/calls"
	"github.com/rathaus-de/rathaus/video/embedded"
)

// SignalPath is where the embedded media server's signalling is served on
// the public listener.
const SignalPath = "/video/v1/signal"

// StaffCallPath is the staff call page on the public listener.
const StaffCallPath = "/video/"

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
	backend, err := embedded.New(embedded.Options{GrantKeys: [][]byte{key}, ICEUDPAddr: v.ICE.UDP, ICETCPAddr: v.ICE.TCP,
		PublicIPs: v.VideoPublicIPs(), IncludeLoopback: v.ICE.IncludeLoopback,
		PublicURL: "ws" + strings.TrimPrefix(base, "http") + SignalPath,
		Log:       a.log.With().Str("component", "video").Logger(), Registerer: a.opts.Registry})
	if err != nil {
		return err
	}
	a.videoBackend = backend
	a.calls, err = calls.New(calls.Options{Backend: backend, Cases: a.cases, AS: a.as, Sender: a.sender,
		StaffPageURL: func(room id.RoomID) string { return base + StaffCallPath + "?room=" + url.QueryEscape(room.String()) },
		WidgetURL: base + StaffCallPath + "?widgetId=$matrix_widget_id&roomId=$matrix_room_id&userId=$matrix_user_id" +
			"&theme=$org.matrix.msc2873.client_theme&lang=$org.matrix.msc2873.client_language",
		Limits: video.Limits{MaxParticipants: v.Limits.MaxParticipants, MaxPublishers: v.Limits.MaxPublishers,
			MaxBitrate: v.Limits.MaxBitrateKbps * 1000},
		GrantTTL: v.GrantTTL, WaitTimeout: v.WaitTimeout, Log: a.log.With().Str("component", "calls").Logger()})
	if err != nil {
		return err
	}
	if err = a.calls.Register(a.router); err != nil {
		return err
	}
	a.public = append(a.public, publicRoute{pattern: SignalPath, handler: backend})
	return nil
}

// stopVideo ends every call and closes the media ports.
func (a *App) stopVideo() {
	if a.calls != nil {
		a.calls.Close()
	}
	if a.videoBackend != nil {
		if err := a.videoBackend.Close(); err != nil {
			a.log.Warn().Err(err).Msg("Failed to close the media server")
		}
	}
}
