package devhs_test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/internal/devhs"
	"github.com/rathaus-de/rathaus/internal/tesths"
)

// readSynapseConfig loads a homeserver.yaml with Synapse's own parser and
// prints what Synapse made of the options devhs sets. Every rate limiter
// Synapse has is listed, so one added by a Synapse upgrade shows up with
// its default.
const readSynapseConfig = `
import json, sys
from netaddr import IPAddress
from synapse.config.homeserver import HomeServerConfig
from synapse.config.ratelimiting import RatelimitSettings

c = HomeServerConfig.load_config("devhs", ["--config-path", sys.argv[1]])
limits = {}
for name, value in vars(c.ratelimiting).items():
    if isinstance(value, RatelimitSettings) and name != "remote_media_downloads":
        limits[name] = min(value.per_second, value.burst_count)
print(json.dumps({
    "limits": limits,
    "federation_reject_limit": c.ratelimiting.rc_federation.reject_limit,
    "rr_transactions": c.ratelimiting.federation_rr_transactions_per_room_per_second,
    "default_room_version": c.server.default_room_version.identifier,
    "federation_blocks_loopback": IPAddress("127.0.0.1") in c.server.federation_ip_range_blocklist,
    "verify_certificates": c.tls.federation_verify_certificates,
    "key_servers": len(c.key.key_servers),
    "min_retry_ms": c.federation.destination_min_retry_interval_ms,
    "max_retry_ms": c.federation.destination_max_retry_interval_ms,
    "presence": c.server.presence_enabled,
    "bcrypt_rounds": c.registration.bcrypt_rounds,
    "sync_cache_ms": c.caches.sync_response_cache_duration.as_millis(),
    "shared_secret": c.registration.registration_shared_secret,
    "open_registration": c.registration.enable_registration,
    "appservice_files": c.appservice.app_service_config_files,
}))
`

// Synapse ignores keys it does not know, so a misspelt option would pass
// unnoticed: ask Synapse 1.163 what it read.
func TestSynapseReadsTheConfig(t *testing.T) {
	dir := t.TempDir()
	asFile := filepath.Join(dir, "appservice-0.yaml")
	path, err := devhs.WriteSynapseConfig(dir, devhs.Options{
		ServerName: "127.0.0.1:2", ClientAddr: "127.0.0.1:1", FederationAddr: "127.0.0.1:2",
		RoomVersion: "10", AppserviceFiles: []string{asFile},
	})
	require.NoError(t, err)
	cmd := exec.CommandContext(t.Context(), tesths.SynapsePython(t), "-c", readSynapseConfig, path)
	out, err := cmd.Output()
	require.NoError(t, err, "%s", errOutput(err))

	var got struct {
		Limits                   map[string]float64 `json:"limits"`
		FederationRejectLimit    int                `json:"federation_reject_limit"`
		RRTransactions           float64            `json:"rr_transactions"`
		DefaultRoomVersion       string             `json:"default_room_version"`
		FederationBlocksLoopback bool               `json:"federation_blocks_loopback"`
		VerifyCertificates       bool               `json:"verify_certificates"`
		KeyServers               int                `json:"key_servers"`
		MinRetryMS               int                `json:"min_retry_ms"`
		MaxRetryMS               int                `json:"max_retry_ms"`
		Presence                 bool               `json:"presence"`
		BcryptRounds             int                `json:"bcrypt_rounds"`
		SyncCacheMS              int                `json:"sync_cache_ms"`
		SharedSecret             string             `json:"shared_secret"`
		OpenRegistration         bool               `json:"open_registration"`
		AppserviceFiles          []string           `json:"appservice_files"`
	}
	require.NoError(t, json.Unmarshal(out, &got), "%s", out)
	require.NotEmpty(t, got.Limits)
	for name, limit := range got.Limits {
		assert.GreaterOrEqual(t, limit, 1000.0, "rate limit %s is on", name)
	}
	assert.Greater(t, got.FederationRejectLimit, 1000)
	assert.GreaterOrEqual(t, got.RRTransactions, 1000.0)
	assert.Equal(t, "10", got.DefaultRoomVersion)
	assert.False(t, got.FederationBlocksLoopback, "federation to 127.0.0.1 is blocked")
	assert.False(t, got.VerifyCertificates)
	assert.Zero(t, got.KeyServers, "trusted key servers")
	assert.Equal(t, 1000, got.MinRetryMS)
	assert.Equal(t, 10000, got.MaxRetryMS)
	assert.False(t, got.Presence)
	assert.Equal(t, 4, got.BcryptRounds)
	assert.Zero(t, got.SyncCacheMS)
	assert.NotEmpty(t, got.SharedSecret, "the shared secret is read from its file")
	assert.False(t, got.OpenRegistration)
	assert.Equal(t, []string{asFile}, got.AppserviceFiles)
}

// errOutput returns what a failed command wrote to stderr.
func errOutput(err error) string {
	if ee, ok := err.(*exec.ExitError); ok { //nolint:errorlint // Output returns it unwrapped
		return string(ee.Stderr)
	}
	return ""
}
