package config

import (
	"fmt"
	"mime"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// GuestChatConfig is the citizens' web chat, served on its own public
// listener (normally behind the authority's reverse proxy).
type GuestChatConfig struct {
	// Enabled serves the guest chat. Without it no citizen can open a case.
	Enabled bool `yaml:"enabled"`
	// Listen is the address of the public listener.
	Listen string `yaml:"listen"`
	// PublicURL is how browsers reach the chat, e.g.
	// https://chat.stadt.example. Derived from Listen when that is a
	// loopback address (http:// is allowed on loopback only).
	PublicURL string `yaml:"public_url"`
	// EmbedOrigins may show the chat in an iframe (CSP frame-ancestors),
	// e.g. the OZG portal's origin. Empty: no embedding.
	EmbedOrigins []string `yaml:"embed_origins"`
	// TrustedProxies are addresses or CIDR ranges whose X-Forwarded-For is
	// believed for rate limiting.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// ClientIPHeader is the header the trusted proxies name the client in:
	// X-Forwarded-For (default) or Forwarded (RFC 7239). Only the one the
	// proxy sets may be read: it passes the other on as the client wrote
	// it.
	ClientIPHeader string `yaml:"client_ip_header"`
	// SessionLifetime is how long a browser can come back to its open case
	// after its last request. Every request renews it while the case is
	// open, so it only needs to outlast retention.abandon_after. A session
	// without a case keeps its row only an hour after its last request
	// (guestchat.caselessSessionLifetime).
	SessionLifetime time.Duration `yaml:"session_lifetime"`
	// SessionAfterCaseEnd is how long a session lasts after its case ended
	// (resolved, closed by staff, abandoned, transferred): long enough to
	// read the last answer and download the conversation, short enough
	// that the next person at a shared computer cannot (issue 12). The
	// session is no longer renewed once the case has ended.
	SessionAfterCaseEnd time.Duration `yaml:"session_after_case_end"`
	// PowDifficulty is the number of leading zero bits of the entry
	// challenge (8–30).
	PowDifficulty int `yaml:"pow_difficulty"`
	// MaxMessageLength is the longest message a citizen may send, in
	// characters.
	MaxMessageLength int `yaml:"max_message_length"`
	// MaxAttachmentBytes is the largest file a citizen may send.
	MaxAttachmentBytes int64 `yaml:"max_attachment_bytes"`
	// AttachmentTypes are the media types a citizen may send.
	AttachmentTypes []string `yaml:"attachment_types"`
	// RateLimits bound what citizens can send.
	RateLimits GuestRateLimits `yaml:"rate_limits"`
	// Streams bound the live streams open at once (guestlimits.go).
	Streams GuestStreamLimits `yaml:"streams"`
	// Timeouts bound slow and idle connections (guestlimits.go).
	Timeouts GuestTimeouts `yaml:"timeouts"`
	// PrivacyPage is an HTML file the chat serves at PrivacyPagePath, for
	// an installation without a privacy notice on the authority's own
	// website (the demo writes one). authority.privacy_url defaults to it.
	// Relative paths are relative to the working directory, like
	// database.uri. Empty: no such page.
	PrivacyPage string `yaml:"privacy_page"`
	// AllowMissingPrivacyNotice lets the chat run without
	// authority.privacy_url. For tests only: a public chat must link its
	// privacy notice (GDPR Art. 13).
	AllowMissingPrivacyNotice bool `yaml:"allow_missing_privacy_notice"`
}

// PrivacyPagePath is where the guest chat serves guest_chat.privacy_page.
const PrivacyPagePath = "/datenschutz"

// GuestRateLimits bound the messages and files citizens send, and how
// often cases can be opened.
type GuestRateLimits struct {
	// MessagesPerMinute per session; also the burst.
	MessagesPerMinute int `yaml:"messages_per_minute"`
	// MessagesPerMinutePerAddress per client address (IPv6: per /64).
	MessagesPerMinutePerAddress int `yaml:"messages_per_minute_per_address"`
	// MessagesPerSecond across all citizens together.
	MessagesPerSecond int `yaml:"messages_per_second"`
	// CasesPerHourPerAddress bounds how many cases one address opens.
	CasesPerHourPerAddress int `yaml:"cases_per_hour_per_address"`
	// SessionsPerHourPerAddress bounds how many sessions (database rows)
	// one address creates; also the burst.
	SessionsPerHourPerAddress int `yaml:"sessions_per_hour_per_address"`
	// SessionsPerSecond bounds new sessions across all citizens together.
	SessionsPerSecond int `yaml:"sessions_per_second"`
}

// RetentionConfig says how long cases live.
type RetentionConfig struct {
	// AbandonAfter: an open case without citizen activity for this long
	// becomes abandoned.
	AbandonAfter time.Duration `yaml:"abandon_after"`
	// IdleWarning: the citizen's page warns this long before the case
	// would be abandoned, and offers to keep it open.
	IdleWarning time.Duration `yaml:"idle_warning"`
	// CloseResolvedAfter: a case staff marked resolved is closed this long
	// after, unless someone reopens or closes it first; from then on
	// KeepClosed applies. Without it a resolved case would be kept for ever.
	CloseResolvedAfter time.Duration `yaml:"close_resolved_after"`
	// KeepClosed: closed and abandoned cases are purged this long after
	// they ended (messages redacted, members removed, room left).
	KeepClosed time.Duration `yaml:"keep_closed"`
	// CheckInterval is how often rathaus looks for cases to abandon or
	// purge.
	CheckInterval time.Duration `yaml:"check_interval"`
}

// Guest chat and retention defaults.
const (
	DefaultGuestListen         = "127.0.0.1:29332"
	DefaultSessionLifetime     = 96 * time.Hour
	DefaultSessionAfterCaseEnd = time.Hour
	DefaultPowDifficulty       = 18
	DefaultMaxMessageLength    = 4000
	DefaultMaxAttachmentBytes  = 10 << 20
	DefaultAbandonAfter        = 72 * time.Hour
	DefaultIdleWarning         = 15 * time.Minute
	DefaultCloseResolvedAfter  = 7 * 24 * time.Hour
	DefaultKeepClosed          = 30 * 24 * time.Hour
	DefaultRetentionCheck      = time.Minute
	defaultMessagesPerMinute   = 20
	defaultMessagesPerAddress  = 60
	defaultMessagesPerSecond   = 50
	defaultCasesPerHourPerAddr = 10
)

// DefaultAttachmentTypes are the types citizens may send by default:
// common images and PDF.
var DefaultAttachmentTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"}

// allowedAttachmentTypes are the types rathaus can check by their content.
var allowedAttachmentTypes = DefaultAttachmentTypes

func defaultGuestChat() GuestChatConfig {
	return GuestChatConfig{
		Enabled:             true,
		Listen:              DefaultGuestListen,
		EmbedOrigins:        []string{},
		TrustedProxies:      []string{},
		ClientIPHeader:      "X-Forwarded-For",
		SessionLifetime:     DefaultSessionLifetime,
		SessionAfterCaseEnd: DefaultSessionAfterCaseEnd,
		PowDifficulty:       DefaultPowDifficulty,
		MaxMessageLength:    DefaultMaxMessageLength,
		MaxAttachmentBytes:  DefaultMaxAttachmentBytes,
		AttachmentTypes:     slices.Clone(DefaultAttachmentTypes),
		RateLimits: GuestRateLimits{
			MessagesPerMinute:           defaultMessagesPerMinute,
			MessagesPerMinutePerAddress: defaultMessagesPerAddress,
			MessagesPerSecond:           defaultMessagesPerSecond,
			CasesPerHourPerAddress:      defaultCasesPerHourPerAddr,
			SessionsPerHourPerAddress:   defaultSessionsPerHourPerAddr,
			SessionsPerSecond:           defaultSessionsPerSecond,
		},
		Streams:  defaultGuestStreams(),
		Timeouts: defaultGuestTimeouts(),
	}
}

func defaultRetention() RetentionConfig {
	return RetentionConfig{AbandonAfter: DefaultAbandonAfter, IdleWarning: DefaultIdleWarning,
		CloseResolvedAfter: DefaultCloseResolvedAfter, KeepClosed: DefaultKeepClosed, CheckInterval: DefaultRetentionCheck}
}

// IsLoopbackHost reports whether host is localhost or a loopback address.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// deriveGuestPublicURL is "http://"+listen for a loopback listener.
func deriveGuestPublicURL(listen string) string {
	host, _, err := net.SplitHostPort(listen)
	if err != nil || !IsLoopbackHost(host) {
		return ""
	}
	return "http://" + listen
}

func (c *Config) validateGuestChat(errs *ValidationErrors) {
	g := &c.GuestChat
	if !g.Enabled {
		return
	}
	if msg := checkListen(g.Listen); msg != "" {
		errs.add("guest_chat.listen", msg)
	} else if g.Listen == c.AppService.Listen || (c.Metrics.Enabled && g.Listen == c.Metrics.Listen) {
		errs.add("guest_chat.listen", "must differ from appservice.listen and metrics.listen")
	}
	if g.PublicURL == "" {
		errs.add("guest_chat.public_url", "required unless guest_chat.listen is a loopback address; e.g. https://chat.stadt.example")
	} else if u, msg := checkHTTPURL(g.PublicURL); msg != "" {
		errs.add("guest_chat.public_url", msg)
	} else if u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
		errs.add("guest_chat.public_url", "must use https:// (plain http:// only on loopback, for tests)")
	} else if u.Path != "" && u.Path != "/" {
		errs.add("guest_chat.public_url", "must not have a path; serve the chat at the root of its host")
	} else if isExampleHost(u.Hostname()) {
		errs.add("guest_chat.public_url", fmt.Sprintf("still the placeholder host %q; set the URL citizens open the chat at", u.Hostname()))
	}
	for i, o := range g.EmbedOrigins {
		key := fmt.Sprintf("guest_chat.embed_origins[%d]", i)
		u, msg := checkHTTPURL(o)
		switch {
		case msg != "":
			errs.add(key, msg)
		case u.Path != "" || strings.HasSuffix(o, "/"):
			errs.add(key, fmt.Sprintf("%q must be an origin: scheme://host[:port] without a path", o))
		case u.Scheme == "http" && !IsLoopbackHost(u.Hostname()):
			errs.add(key, fmt.Sprintf("%q must use https://", o))
		case isExampleHost(u.Hostname()):
			errs.add(key, fmt.Sprintf("still the placeholder host %q; set your portal's origin or remove it", u.Hostname()))
		}
	}
	if h := g.ClientIPHeader; !strings.EqualFold(h, "X-Forwarded-For") && !strings.EqualFold(h, "Forwarded") {
		errs.add("guest_chat.client_ip_header", fmt.Sprintf("%q is neither X-Forwarded-For nor Forwarded; set the header your reverse proxy sets", h))
	}
	for i, p := range g.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				errs.add(fmt.Sprintf("guest_chat.trusted_proxies[%d]", i), fmt.Sprintf("%q is not an address or CIDR range", p))
			}
		}
	}
	if g.SessionLifetime < time.Hour {
		errs.add("guest_chat.session_lifetime", "must be at least 1h")
	} else if g.SessionLifetime < c.Retention.AbandonAfter {
		errs.add("guest_chat.session_lifetime", fmt.Sprintf("must be at least retention.abandon_after (%s): "+
			"otherwise a citizen who waits loses an open case before it is abandoned", c.Retention.AbandonAfter))
	}
	if g.SessionAfterCaseEnd < time.Second || g.SessionAfterCaseEnd > 24*time.Hour {
		errs.add("guest_chat.session_after_case_end", "must be from 1s to 24h")
	}
	if g.PowDifficulty < 8 || g.PowDifficulty > 30 {
		errs.add("guest_chat.pow_difficulty", "must be from 8 to 30")
	}
	if g.MaxMessageLength < 100 || g.MaxMessageLength > 60000 {
		errs.add("guest_chat.max_message_length", "must be from 100 to 60000 characters")
	}
	if g.MaxAttachmentBytes < 0 || g.MaxAttachmentBytes > 100<<20 {
		errs.add("guest_chat.max_attachment_bytes", "must be from 0 (no attachments) to 104857600 (100 MiB)")
	}
	for i, t := range g.AttachmentTypes {
		mt, _, err := mime.ParseMediaType(t)
		if err != nil || mt != t || !slices.Contains(allowedAttachmentTypes, t) {
			errs.add(fmt.Sprintf("guest_chat.attachment_types[%d]", i),
				fmt.Sprintf("%q is not one of %s", t, strings.Join(allowedAttachmentTypes, ", ")))
		}
	}
	c.validatePrivacyNotice(errs)
	c.validateGuestBounds(errs)
	r := g.RateLimits
	for key, v := range map[string]int{
		"messages_per_minute": r.MessagesPerMinute, "messages_per_minute_per_address": r.MessagesPerMinutePerAddress,
		"messages_per_second": r.MessagesPerSecond, "cases_per_hour_per_address": r.CasesPerHourPerAddress,
		"sessions_per_hour_per_address": r.SessionsPerHourPerAddress, "sessions_per_second": r.SessionsPerSecond,
	} {
		if v < 1 {
			errs.add("guest_chat.rate_limits."+key, "must be at least 1")
		}
	}
}

// validatePrivacyNotice asks for the privacy notice citizens must be able
// to read before they write (GDPR Art. 13): the page would otherwise show a
// link that goes nowhere.
func (c *Config) validatePrivacyNotice(errs *ValidationErrors) {
	g := &c.GuestChat
	if c.Authority.PrivacyURL == "" && !g.AllowMissingPrivacyNotice {
		errs.add("authority.privacy_url", "required while the guest chat is enabled: citizens must find the privacy notice "+
			"(Datenschutzerklärung) that covers the chat; set the https:// URL of your privacy notice, "+
			"or guest_chat.privacy_page to an HTML file the chat serves at "+PrivacyPagePath)
	}
	if strings.TrimSpace(g.PrivacyPage) != g.PrivacyPage {
		errs.add("guest_chat.privacy_page", "must not start or end with spaces")
	}
}

// deriveGuestPrivacyURL is the address of the chat's own privacy page, if
// it serves one.
func deriveGuestPrivacyURL(g GuestChatConfig) string {
	if !g.Enabled || g.PrivacyPage == "" || g.PublicURL == "" {
		return ""
	}
	return strings.TrimSuffix(g.PublicURL, "/") + PrivacyPagePath
}

func (c *Config) validateRetention(errs *ValidationErrors) {
	r := c.Retention
	if r.AbandonAfter < time.Second {
		errs.add("retention.abandon_after", "must be at least 1s")
	}
	if r.IdleWarning < 0 || r.IdleWarning >= r.AbandonAfter {
		errs.add("retention.idle_warning", "must be at least 0 and shorter than retention.abandon_after")
	}
	if r.CloseResolvedAfter < time.Second {
		errs.add("retention.close_resolved_after", "must be at least 1s")
	}
	if r.KeepClosed < time.Second {
		errs.add("retention.keep_closed", "must be at least 1s")
	}
	if r.CheckInterval < 100*time.Millisecond || r.CheckInterval > time.Hour {
		errs.add("retention.check_interval", "must be from 100ms to 1h")
	}
}
