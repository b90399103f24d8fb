package config

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// VideoConfig configures video consultations in case rooms (docs/video.md).
type VideoConfig struct {
	// Enabled offers video in case rooms: `!rathaus video`, the citizen's
	// "Video starten" and the staff call page. Needs guest_chat.enabled
	// (the public listener serves the pages and the signalling).
	Enabled bool `yaml:"enabled"`
	// Backend is the media server: "embedded" (inside rathaus). "livekit"
	// is the next step (docs/video.md).
	Backend string `yaml:"backend"`
	// ICE is where the embedded media server takes media.
	ICE VideoICEConfig `yaml:"ice"`
	// Limits bound each call.
	Limits VideoLimitsConfig `yaml:"limits"`
	// GrantTTL is how long a grant to join a call is valid (at most 1 h).
	GrantTTL time.Duration `yaml:"grant_ttl"`
	// WaitTimeout is how long a citizen waits in the lobby before the
	// knock expires.
	WaitTimeout time.Duration `yaml:"wait_timeout"`
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
		GrantTTL: 10 * time.Minute, WaitTimeout: 30 * time.Minute}
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
	if v.Backend != "embedded" {
		errs.add("video.backend", fmt.Sprintf("must be \"embedded\" (got %q; \"livekit\" is not available yet)", v.Backend))
	}
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
		errs.add("video.limits.max_participants", "must be 2 to 50 (the embedded server is for consultations and small meetings)")
	}
	if v.Limits.MaxPublishers < 1 || v.Limits.MaxPublishers > v.Limits.MaxParticipants {
		errs.add("video.limits.max_publishers", "must be at least 1 and at most max_participants")
	}
	if v.Limits.MaxBitrateKbps < 100 || v.Limits.MaxBitrateKbps > 10000 {
		errs.add("video.limits.max_bitrate_kbps", "must be 100 to 10000")
	}
	if v.GrantTTL < time.Minute || v.GrantTTL > time.Hour {
		errs.add("video.grant_ttl", "must be 1m to 1h")
	}
	if v.WaitTimeout < time.Minute || v.WaitTimeout > 24*time.Hour {
		errs.add("video.wait_timeout", "must be 1m to 24h")
	}
}
