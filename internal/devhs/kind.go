package devhs

import (
	"fmt"
	"os"
	"strings"
)

// Kind names a homeserver implementation that devhs can run.
type Kind string

const (
	// Dendrite is run from a prebuilt binary (Options.Binary).
	Dendrite Kind = "dendrite"
	// Synapse is run as `python -m synapse.app.homeserver`, Options.Binary
	// being the python of a venv with Synapse installed.
	Synapse Kind = "synapse"
)

// Valid reports whether k is a kind devhs knows.
func (k Kind) Valid() bool {
	return k == Dendrite || k == Synapse
}

// title is k as a proper name, for messages.
func (k Kind) title() string {
	switch k {
	case Dendrite:
		return "Dendrite"
	case Synapse:
		return "Synapse"
	}
	return string(k)
}

// prepareLaunch writes the configuration of opts.Kind into the state
// directory and returns how to start the server, without Dir, Env and the
// log. asFiles are absolute.
func prepareLaunch(opts Options, files stateFiles, secret string, asFiles []string) (ProcessOptions, error) {
	switch opts.Kind {
	case Dendrite:
		cfg := dendriteConfig(files, opts.ServerName, secret, opts.RoomVersion, asFiles)
		if err := writeConfig(files.config, cfg); err != nil {
			return ProcessOptions{}, err
		}
		return ProcessOptions{
			Name: "dendrite",
			Path: opts.Binary,
			Args: []string{
				"--config", files.config,
				"--http-bind-address", opts.ClientAddr,
				"--https-bind-address", opts.FederationAddr,
				"--tls-cert", files.tlsCert,
				"--tls-key", files.tlsKey,
			},
		}, nil
	case Synapse:
		return prepareSynapse(opts, files, asFiles)
	}
	return ProcessOptions{}, fmt.Errorf("%w: %q", ErrUnknownKind, opts.Kind)
}

// proxyFree returns the environment without *_proxy variables: a homeserver
// on loopback must reach its peers and appservices directly, and Synapse
// honours http_proxy for federation and appservice requests.
func proxyFree(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasSuffix(strings.ToLower(name), "_proxy") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// homeserverEnv is the environment of a homeserver process.
func homeserverEnv() []string {
	return proxyFree(os.Environ())
}
