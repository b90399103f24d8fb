package devhs

import (
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// componentDatabases maps Dendrite's config sections to the key of their
// database block. With SQLite every component needs its own file: the
// global database block is for PostgreSQL only.
var componentDatabases = map[string]string{
	"federation_api": "database",
	"key_server":     "database",
	"media_api":      "database",
	"mscs":           "database",
	"relay_api":      "database",
	"room_server":    "database",
	"sync_api":       "database",
	"user_api":       "account_database",
}

// dendriteConfig is the configuration of one instance, tuned to be light
// (SQLite, small cache, cheap bcrypt, no search, no presence, no metrics)
// and to federate over loopback. roomVersion may be empty (Dendrite's
// default, 10 in v0.15.2).
func dendriteConfig(files stateFiles, serverName, sharedSecret, roomVersion string, appserviceFiles []string) map[string]any {
	if appserviceFiles == nil {
		appserviceFiles = []string{}
	}
	cfg := map[string]any{
		"version": 2,
		"global": map[string]any{
			"server_name":                    serverName,
			"private_key":                    files.signingKey,
			"trusted_third_party_id_servers": []string{},
			"disable_federation":             false,
			"presence":                       map[string]any{"enable_inbound": false, "enable_outbound": false},
			"report_stats":                   map[string]any{"enabled": false},
			"server_notices":                 map[string]any{"enabled": false},
			"metrics":                        map[string]any{"enabled": false},
			"dns_cache":                      map[string]any{"enabled": false},
			"cache":                          map[string]any{"max_size_estimated": "64mb", "max_age": "10m"},
			"jetstream": map[string]any{
				"storage_path": filepath.Join(files.dir, "jetstream"),
				"topic_prefix": "Dendrite",
			},
		},
		"app_service_api": map[string]any{
			// Appservices under test often listen on httptest TLS servers.
			"disable_tls_validation": true,
			"config_files":           appserviceFiles,
		},
		"client_api": map[string]any{
			"registration_disabled":       true,
			"guests_disabled":             true,
			"registration_shared_secret":  sharedSecret,
			"enable_registration_captcha": false,
			"rate_limiting":               map[string]any{"enabled": false},
		},
		"federation_api": map[string]any{
			// Self-signed certificates on loopback: skip validation and allow
			// private networks, which Dendrite denies by default.
			"disable_tls_validation": true,
			"deny_networks":          []string{},
			"allow_networks":         []string{"0.0.0.0/0", "::/0"},
			"key_perspectives":       []any{},
			"prefer_direct_fetch":    true,
			"send_max_retries":       16,
		},
		"media_api": map[string]any{
			"base_path":                filepath.Join(files.dir, "media"),
			"dynamic_thumbnails":       false,
			"max_thumbnail_generators": 1,
		},
		"sync_api": map[string]any{
			"search": map[string]any{"enabled": false},
		},
		"user_api": map[string]any{
			"bcrypt_cost": 4, // bcrypt.MinCost: registration and login stay fast
		},
		"logging": []any{
			map[string]any{
				"type":   "file",
				"level":  "info",
				"params": map[string]any{"path": files.logDir},
			},
		},
	}
	for section, key := range componentDatabases {
		sec, ok := cfg[section].(map[string]any)
		if !ok {
			sec = map[string]any{}
			cfg[section] = sec
		}
		sec[key] = map[string]any{
			"connection_string": "file:" + filepath.Join(files.dir, section+".db"),
		}
	}
	if roomVersion != "" {
		cfg["room_server"].(map[string]any)["default_room_version"] = roomVersion
	}
	return cfg
}

func writeConfig(path string, cfg map[string]any) error {
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("failed to encode homeserver config: %w", err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("failed to write homeserver config: %w", err)
	}
	return nil
}
