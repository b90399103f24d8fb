package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// VideoConfig configures video consultations in case rooms (docs/video.md).
type VideoConfig struct {
	// Enabled offers video in case rooms: `!rathaus video`, the citizen's
	// "Video starten" and the staff call page. Needs guest_chat.enabled
	// (the public listener serves the pages and the signalling).
	Enabled bool `yaml:"enabled"`
	// Backend is the media server: "embedded" (inside rathaus) or
	// "livekit" (an external LiveKit server or cluster; docs/video.md).
	Backend string `yaml:"backend"`
	// LiveKit is the LiveKit server when Backend is "livekit".
	LiveKit VideoLiveKitConfig `yaml:"livekit"`
	// ICE is where the embedded media server takes media.
	ICE VideoICEConfig `yaml:"ice"`
	// Limits bound each call.
	Limits VideoLimitsConfig `yaml:"limits"`
	// GrantTTL is how long a grant to join a call is valid (at most 1 h).
	GrantTTL time.Duration `yaml:"grant_ttl"`
	// WaitTimeout is how long a citizen waits in the lobby before the
	// knock expires.
	WaitTimeout time.Duration `yaml:"wait_timeout"`
	// EndWhenEmpty ends a running call, with its summary, once nobody
	// has been in it or waiting for this long.
	EndWhenEmpty time.Duration `yaml:"end_when_empty"`
	// TURN is the embedded TURN server for networks that let no UDP
	// through to the media port.
	TURN VideoTURNConfig `yaml:"turn"`
}

// VideoLiveKitConfig is the LiveKit server rathaus runs calls on
// (docs/video.md, "LiveKit").
type VideoLiveKitConfig struct {
	// URL is LiveKit as rathaus reaches it: its API (http:// or https://).
	URL string `yaml:"url"`
	// ClientURL is LiveKit as browsers reach it (wss://); URL with ws(s)
	// if empty.
	ClientURL string `yaml:"client_url"`
	// APIKey and APISecret are a key pair of LiveKit's `keys`; the secret
	// has at least 32 bytes.
	APIKey    string `yaml:"api_key"`
	APISecret string `yaml:"api_secret"`
	// MatrixRTC makes rathaus the MatrixRTC authorization service of the
	// case rooms, so staff can call from Element (docs/video.md).
	MatrixRTC bool `yaml:"matrix_rtc"`
}

// ClientURLOrDefault is LiveKit as browsers reach it: client_url, or url with
// ws(s).
func (l VideoLiveKitConfig) ClientURLOrDefault() string {
	if l.ClientURL != "" {
		return strings.TrimSuffix(l.ClientURL, "/")
	}
	if rest, ok := strings.CutPrefix(l.URL, "http"); ok {
		return strings.TrimSuffix("ws"+rest, "/")
	}
	return ""
}

// MediaOrigins are the origins a call page must be allowed to connect to
// besides its own (its CSP's connect-src): LiveKit's, as WebSocket and
// as HTTP (livekit-client asks /rtc/validate when a join fails). None for
// the embedded server, which is served on the page's own origin.
func (v VideoConfig) MediaOrigins() []string {
	if !v.Enabled || v.Backend != "livekit" {
		return nil
	}
	u, err := url.Parse(v.LiveKit.ClientURLOrDefault())
	if err != nil || u.Host == "" {
		return nil
	}
	httpScheme := map[string]string{"ws": "http", "wss": "https"}[u.Scheme]
	if httpScheme == "" {
		return nil
	}
	return []string{u.Scheme + "://" + u.Host, httpScheme + "://" + u.Host}
}

// MinLiveKitSecretLength is the shortest LiveKit API secret accepted.
const MinLiveKitSecretLength = 32

// VideoTURNConfig is the embedded TURN server (docs/video.md, "TURN").
type VideoTURNConfig struct {
	Enabled bool `yaml:"enabled"`
	// UDP, TCP and TLS are where it listens ("" for not at all).
	UDP string `yaml:"udp"`
	TCP string `yaml:"tcp"`
	TLS string `yaml:"tls"`
	// TLSCertFile and TLSKeyFile are the PEM files for TLS.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// RelayIP is the address relays are opened on; PublicIP the one
	// announced (RelayIP if empty); PublicHost the name in the TURN URLs
	// (PublicIP if empty).
	RelayIP    string `yaml:"relay_ip"`
	PublicIP   string `yaml:"public_ip"`
	PublicHost string `yaml:"public_host"`
	// AllowPeers are address prefixes relays may reach although they are
	// loopback, private or link-local (refused by default).
	AllowPeers []string `yaml:"allow_peers"`
}

// AllowedPeers parses AllowPeers (Validate has checked them).
func (t VideoTURNConfig) AllowedPeers() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range t.AllowPeers {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}

// VideoICEConfig is the media side of the embedded server.
type VideoICEConfig struct {
	// UDP is the one UDP port for all media, "host:port".
	UDP string `yaml:"udp"`
	// TCP is the one ICE-TCP port ("" for none), for networks that block
	// UDP.
	TCP string `yaml:"tcp"`
	// PublicIPs are announced to browsers instead of the local address
	// when rathaus sits behind 1:1 NAT.
	PublicIPs []string `yaml:"public_ips"`
	// IncludeLoopback offers loopback addresses (tests and the demo only).
	IncludeLoopback bool `yaml:"include_loopback"`
}

// VideoLimitsConfig bounds one call.
type VideoLimitsConfig struct {
	MaxParticipants int `yaml:"max_participants"`
	MaxPublishers   int `yaml:"max_publishers"`
	// MaxBitrateKbps caps what one participant sends, kbit/s.
	MaxBitrateKbps int `yaml:"max_bitrate_kbps"`
}

func defaultVideo() VideoConfig {
	return VideoConfig{Backend: "embedded", ICE: VideoICEConfig{UDP: "0.0.0.0:7882", TCP: "0.0.0.0:7881", PublicIPs: []string{}},
		Limits:   VideoLimitsConfig{MaxParticipants: 6, MaxPublishers: 4, MaxBitrateKbps: 1500},
		GrantTTL: 10 * time.Minute, WaitTimeout: 30 * time.Minute, EndWhenEmpty: 10 * time.Minute,
		TURN: VideoTURNConfig{UDP: "0.0.0.0:3478", TCP: "0.0.0.0:3478", AllowPeers: []string{}}}
}

// VideoPublicIPs parses ICE.PublicIPs (Validate has checked them).
func (v VideoConfig) VideoPublicIPs() []netip.Addr {
	var out []netip.Addr
	for _, s := range v.ICE.PublicIPs {
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// VideoBaseURL is the public base of the video pages and signalling, or ""
// if video is off: guest_chat.public_url without a trailing slash.
func (c *Config) VideoBaseURL() string {
	if !c.Video.Enabled || !c.GuestChat.Enabled || c.GuestChat.PublicURL == "" {
		return ""
	}
	return strings.TrimRight(c.GuestChat.PublicURL, "/")
}

func (c *Config) validateVideo(errs *ValidationErrors) {
	v := c.Video
	if !v.Enabled {
		return
	}
	if !c.GuestChat.Enabled {
		errs.add("video.enabled", "needs guest_chat.enabled: the citizen's page, the staff call page and the signalling are served on the guest chat's listener")
	}
	switch v.Backend {
	case "embedded":
		validateEmbedded(v, errs)
	case "livekit":
		validateLiveKit(v.LiveKit, errs)
	default:
		errs.add("video.backend", fmt.Sprintf("must be \"embedded\" or \"livekit\" (got %q)", v.Backend))
	}
	if v.GrantTTL < time.Minute || v.GrantTTL > time.Hour {
		errs.add("video.grant_ttl", "must be 1m to 1h")
	}
	if v.WaitTimeout < time.Minute || v.WaitTimeout > 24*time.Hour {
		errs.add("video.wait_timeout", "must be 1m to 24h")
	}
	if v.EndWhenEmpty < time.Second || v.EndWhenEmpty > 24*time.Hour {
		errs.add("video.end_when_empty", "must be 1s to 24h")
	}
}

func validateLiveKit(l VideoLiveKitConfig, errs *ValidationErrors) {
	if u, err := url.Parse(l.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs.add("video.livekit.url", "must be LiveKit's http:// or https:// URL, e.g. http://127.0.0.1:7880")
	}
	if l.ClientURL != "" {
		if u, err := url.Parse(l.ClientURL); err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			errs.add("video.livekit.client_url", "must be a ws:// or wss:// URL, e.g. wss://livekit.stadt.example, or empty")
		}
	}
	if l.APIKey == "" {
		errs.add("video.livekit.api_key", "is required: a key of LiveKit's `keys`")
	}
	if len(l.APISecret) < MinLiveKitSecretLength {
		errs.add("video.livekit.api_secret", fmt.Sprintf("must be at least %d bytes (is %d)", MinLiveKitSecretLength, len(l.APISecret)))
	}
}

func validateEmbedded(v VideoConfig, errs *ValidationErrors) {
	if _, _, err := net.SplitHostPort(v.ICE.UDP); err != nil {
		errs.add("video.ice.udp", "must be host:port, e.g. 0.0.0.0:7882")
	}
	if v.ICE.TCP != "" {
		if _, _, err := net.SplitHostPort(v.ICE.TCP); err != nil {
			errs.add("video.ice.tcp", "must be host:port, e.g. 0.0.0.0:7881, or empty")
		}
	}
	for i, s := range v.ICE.PublicIPs {
		if _, err := netip.ParseAddr(s); err != nil {
			errs.add(fmt.Sprintf("video.ice.public_ips[%d]", i), "must be an IP address")
		}
	}
	if v.Limits.MaxParticipants < 2 || v.Limits.MaxParticipants > 50 {
		errs.add("video.limits.max_participants", "must be 2 to 50 (the embedded server is for consultations and small meetings; for larger calls set video.backend: livekit)")
	}
	if v.Limits.MaxPublishers < 1 || v.Limits.MaxPublishers > v.Limits.MaxParticipants {
		errs.add("video.limits.max_publishers", "must be at least 1 and at most max_participants")
	}
	if v.Limits.MaxBitrateKbps < 100 || v.Limits.MaxBitrateKbps > 10000 {
		errs.add("video.limits.max_bitrate_kbps", "must be 100 to 10000")
	}
	validateTURN(v.TURN, errs)
}

func validateTURN(t VideoTURNConfig, errs *ValidationErrors) {
	if !t.Enabled {
		return
	}
	if t.UDP == "" && t.TCP == "" && t.TLS == "" {
		errs.add("video.turn", "needs at least one of udp, tcp, tls")
	}
	for key, addr := range map[string]string{"udp": t.UDP, "tcp": t.TCP, "tls": t.TLS} {
		if _, _, err := net.SplitHostPort(addr); addr != "" && err != nil {
			errs.add("video.turn."+key, "must be host:port, e.g. 0.0.0.0:3478, or empty")
		}
	}
	if t.TLS != "" && (t.TLSCertFile == "" || t.TLSKeyFile == "") {
		errs.add("video.turn.tls", "needs tls_cert_file and tls_key_file")
	}
	if _, err := netip.ParseAddr(t.RelayIP); err != nil {
		errs.add("video.turn.relay_ip", "must be the IP address relays are opened on")
	}
	if _, err := netip.ParseAddr(t.PublicIP); t.PublicIP != "" && err != nil {
		errs.add("video.turn.public_ip", "must be an IP address or empty")
	}
	for i, s := range t.AllowPeers {
		if _, err := netip.ParsePrefix(s); err != nil {
			errs.add(fmt.Sprintf("video.turn.allow_peers[%d]", i), "must be an address prefix such as 10.20.0.0/16")
		}
	}
}
