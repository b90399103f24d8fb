package devhs

import (
	"net"
	"strconv"
)

// unlimited is a rate limit no test reaches.
var unlimited = map[string]any{"per_second": 1000, "burst_count": 1000}

// synapseRateLimits switches off every client-side rate limit of Synapse
// 1.163 (synapse/config/ratelimiting.py) for the test users; the rathaus
// appservice is exempt anyway (rate_limited: false in its registration).
// rc_joins_per_room matters even so: it also counts the joins of appservice
// users and would throttle staff joining a room full of ghosts.
func synapseRateLimits() map[string]any {
	perKey := func(keys ...string) map[string]any {
		m := map[string]any{}
		for _, k := range keys {
			m[k] = unlimited
		}
		return m
	}
	return map[string]any{
		"rc_message":                     unlimited,
		"rc_registration":                unlimited,
		"rc_registration_token_validity": unlimited,
		"rc_login":                       perKey("address", "account", "failed_attempts"),
		"rc_admin_redaction":             unlimited,
		"rc_joins":                       perKey("local", "remote"),
		"rc_joins_per_room":              unlimited,
		"rc_3pid_validation":             unlimited,
		"rc_invites":                     perKey("per_room", "per_user", "per_issuer"),
		"rc_third_party_invite":          unlimited,
		"rc_media_create":                unlimited,
		"rc_presence":                    perKey("per_user"),
		"rc_delayed_event_mgmt":          unlimited,
		"rc_room_creation":               unlimited,
		"rc_user_directory":              unlimited,
		"rc_reports":                     unlimited,
		"rc_key_requests":                unlimited,
		"rc_profile":                     unlimited, // new since the notes: ghosts set display names
		"rc_federation": map[string]any{
			"window_size": 1000, "sleep_limit": 10, "sleep_delay": 500,
			"reject_limit": 99999, "concurrent": 3,
		},
		"federation_rr_transactions_per_room_per_second": 1000,
	}
}

// synapseListener is one plain or TLS listener on addr (host:port).
func synapseListener(addr string, tls bool, resources ...string) (map[string]any, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"port":           port,
		"bind_addresses": []string{host},
		"type":           "http",
		"tls":            tls,
		"x_forwarded":    false,
		"resources":      []any{map[string]any{"names": resources, "compress": false}},
	}, nil
}

// synapseConfig is the homeserver.yaml of one instance: SQLite, cheap
// bcrypt, no presence, metrics, URL previews or rate limits, and federation
// over loopback with self-signed certificates and short back-offs. The
// option names were checked against Synapse 1.163.2: a misspelt key is
// silently ignored. roomVersion may be empty (Synapse's default, 12 in
// 1.163).
func synapseConfig(files stateFiles, opts Options, asFiles []string) (map[string]any, error) {
	// The client listener serves federation too: /_matrix/key/v2/server is
	// what waitReady asks both listeners.
	client, err := synapseListener(opts.ClientAddr, false, "client", "federation")
	if err != nil {
		return nil, err
	}
	// Implies keys, media and openid: what peers and the widgets' OpenID
	// check reach.
	federation, err := synapseListener(opts.FederationAddr, true, "federation")
	if err != nil {
		return nil, err
	}
	if asFiles == nil {
		asFiles = []string{}
	}
	cfg := map[string]any{
		"server_name":    opts.ServerName,
		"public_baseurl": "http://" + opts.ClientAddr + "/",
		"report_stats":   false, // a mandatory key
		// No log_config: INFO and up go to stderr, into the console log.
		"listeners":            []any{client, federation},
		"tls_certificate_path": files.tlsCert,
		"tls_private_key_path": files.tlsKey,
		// Peers (Synapse or Dendrite) have self-signed certificates.
		"federation_verify_certificates": false,
		// Outbound federation must reach loopback. ip_range_whitelist is not
		// enough for that: server names that are IP literals go through a
		// wrapper that checks only the blacklist (BlocklistingAgentWrapper
		// in Synapse 1.163). federation_ip_range_blacklist replaces the
		// blacklist for federation alone; Synapse still blocks 0.0.0.0
		// and ::. The whitelist lets the other outbound clients (pushers)
		// reach loopback too. Appservice pushes are subject to neither.
		"federation_ip_range_blacklist": []string{},
		"ip_range_whitelist":            []string{"127.0.0.0/8", "::1/128"},
		"trusted_key_servers":           []any{}, // fetch peers' keys directly, never from matrix.org
		"suppress_key_server_warning":   true,
		// The default backs off 10 minutes after one failed request, which
		// a restarted peer would not survive.
		"federation": map[string]any{
			"client_timeout":                 "30s",
			"max_long_retry_delay":           "5s",
			"destination_min_retry_interval": "1s",
			"destination_retry_multiplier":   2,
			"destination_max_retry_interval": "10s",
		},
		"database": map[string]any{
			"name": "sqlite3",
			"args": map[string]any{"database": files.database},
		},
		"media_store_path":    files.media,
		"signing_key_path":    files.signingKey,
		"enable_registration": false,
		// Tests get login tokens for their users (POST
		// /_matrix/client/v1/login/get_token), as SSO would hand them out:
		// the staff call page redeems one outside a widget host.
		"login_via_existing_session":      map[string]any{"enabled": true, "require_ui_auth": false, "token_timeout": "5m"},
		"registration_shared_secret_path": files.sharedSecret,
		"bcrypt_rounds":                   4,
		"enable_metrics":                  false,
		"url_preview_enabled":             false,
		"presence":                        map[string]any{"enabled": false},
		// Complement does the same: no stale cached /sync answers.
		"caches":                   map[string]any{"sync_response_cache_duration": 0},
		"app_service_config_files": asFiles,
		// Delayed events (MSC4140), which MatrixRTC clients use for their
		// call membership's leave; off unless a maximum delay is set.
		"max_event_delay_duration": "24h",
		// MatrixRTC clients ask the homeserver for its transports (MSC4143;
		// Options.RTCTransports, none by default: clients then find
		// rathaus's service in the call's memberships) and read
		// state_after in /sync (MSC4222).
		"experimental_features": map[string]any{"msc4143_enabled": true, "msc4222_enabled": true},
	}
	if opts.RoomVersion != "" {
		cfg["default_room_version"] = opts.RoomVersion
	}
	if len(opts.RTCTransports) > 0 {
		var transports []map[string]any
		for _, u := range opts.RTCTransports {
			transports = append(transports, map[string]any{"type": "livekit", "livekit_service_url": u})
		}
		cfg["matrix_rtc"] = map[string]any{"transports": transports}
	}
	for k, v := range synapseRateLimits() {
		cfg[k] = v
	}
	return cfg, nil
}
