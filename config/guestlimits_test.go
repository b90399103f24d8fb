package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Every bound on sessions, streams and connections refuses values that
// would turn it off or make the chat unusable.
func TestGuestBoundsValidation(t *testing.T) {
	for _, tc := range []struct{ name, doc, key string }{
		{"sessions per address", "guest_chat:\n  rate_limits:\n    sessions_per_hour_per_address: 0", "guest_chat.rate_limits.sessions_per_hour_per_address"},
		{"sessions global", "guest_chat:\n  rate_limits:\n    sessions_per_second: 0", "guest_chat.rate_limits.sessions_per_second"},
		{"streams per session", "guest_chat:\n  streams:\n    per_session: 0", "guest_chat.streams.per_session"},
		{"streams per address", "guest_chat:\n  streams:\n    per_address: 0", "guest_chat.streams.per_address"},
		{"streams per address over total", "guest_chat:\n  streams:\n    per_address: 20\n    total: 10", "guest_chat.streams.per_address"},
		{"streams total", "guest_chat:\n  streams:\n    total: 0", "guest_chat.streams.total"},
		{"read header timeout", "guest_chat:\n  timeouts:\n    read_header: 0s", "guest_chat.timeouts.read_header"},
		{"body timeout", "guest_chat:\n  timeouts:\n    body: 2h", "guest_chat.timeouts.body"},
		{"idle timeout", "guest_chat:\n  timeouts:\n    idle: 1ms", "guest_chat.timeouts.idle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ve := validationErrors(t, mergeYAML(t, minimalYAML, tc.doc))
			assert.Contains(t, ve.Keys(), tc.key)
		})
	}
}
