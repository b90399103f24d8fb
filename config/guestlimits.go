package config

import (
	"fmt"
	"time"
)

// The guest chat's bounds on what one client, and everyone together, can
// hold of the server: sessions (database rows), live streams (goroutines
// and database queries) and connections (issue 12, point 6). Rates live in
// GuestRateLimits; counts of things held at once and the listener's
// timeouts live here.

// GuestStreamLimits bound the live streams (GET cases/{id}/events) open at
// once.
type GuestStreamLimits struct {
	// PerSession: a page needs one stream, a reload briefly two. A new
	// stream over the limit replaces the session's oldest one.
	PerSession int `yaml:"per_session"`
	// PerAddress per client address (IPv6: per /64). Over it a new stream
	// is refused with 429.
	PerAddress int `yaml:"per_address"`
	// Total across all citizens. Over it a new stream is refused with 429.
	Total int `yaml:"total"`
}

// GuestTimeouts bound how long a connection to the chat's listener may
// take to send a request, or sit idle between requests.
type GuestTimeouts struct {
	// ReadHeader is how long a client may take to send a request's headers.
	ReadHeader time.Duration `yaml:"read_header"`
	// Body is how long a client may take to send a request's body; an
	// upload gets one more second per 32 KiB it declares (Content-Length).
	Body time.Duration `yaml:"body"`
	// Idle is how long a kept-alive connection may wait for its next
	// request.
	Idle time.Duration `yaml:"idle"`
}

// Guest chat bounds' defaults.
const (
	defaultSessionsPerHourPerAddr = 60
	defaultSessionsPerSecond      = 20
	DefaultStreamsPerSession      = 3
	DefaultStreamsPerAddress      = 50
	DefaultStreamsTotal           = 1000
	DefaultGuestReadHeaderTimeout = 10 * time.Second
	DefaultGuestBodyTimeout       = 30 * time.Second
	DefaultGuestIdleTimeout       = 60 * time.Second
)

func defaultGuestStreams() GuestStreamLimits {
	return GuestStreamLimits{PerSession: DefaultStreamsPerSession, PerAddress: DefaultStreamsPerAddress, Total: DefaultStreamsTotal}
}

func defaultGuestTimeouts() GuestTimeouts {
	return GuestTimeouts{ReadHeader: DefaultGuestReadHeaderTimeout, Body: DefaultGuestBodyTimeout, Idle: DefaultGuestIdleTimeout}
}

// validateGuestBounds checks guest_chat.streams and guest_chat.timeouts.
func (c *Config) validateGuestBounds(errs *ValidationErrors) {
	g := &c.GuestChat
	s := g.Streams
	for key, v := range map[string]int{"per_session": s.PerSession, "per_address": s.PerAddress, "total": s.Total} {
		if v < 1 {
			errs.add("guest_chat.streams."+key, "must be at least 1")
		}
	}
	if s.PerAddress > s.Total {
		errs.add("guest_chat.streams.per_address", fmt.Sprintf("must not exceed guest_chat.streams.total (%d)", s.Total))
	}
	t := g.Timeouts
	for key, v := range map[string]time.Duration{"read_header": t.ReadHeader, "body": t.Body, "idle": t.Idle} {
		if v < 10*time.Millisecond || v > time.Hour {
			errs.add("guest_chat.timeouts."+key, "must be from 10ms to 1h")
		}
	}
}
