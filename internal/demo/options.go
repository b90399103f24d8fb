package demo

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// Environment variables read by the demo.
const (
	EnvDir         = "RATHAUS_DEMO_DIR"
	EnvHSPort      = "RATHAUS_DEMO_HS_PORT"
	EnvFedPort     = "RATHAUS_DEMO_FED_PORT"
	EnvASPort      = "RATHAUS_DEMO_AS_PORT"
	EnvChatPort    = "RATHAUS_DEMO_CHAT_PORT"
	EnvRathausBin  = "RATHAUS_DEMO_RATHAUS_BIN"
	EnvDendriteBin = "RATHAUS_DENDRITE_BIN"
	EnvQuiet       = "RATHAUS_DEMO_QUIET"
	EnvFresh       = "RATHAUS_DEMO_FRESH"
)

// Defaults of Options.
const (
	DefaultDir     = ".demo"
	DefaultHSPort  = 8008
	DefaultFedPort = 8448
	DefaultASPort  = 29330
	// DefaultChatPort is the port of config.DefaultGuestListen, so a demo
	// directory from before the guest chat needs no change for it.
	DefaultChatPort    = 29332
	DefaultDendriteBin = ".cache/bin/dendrite"
)

// Names the demo creates. StaffLocalpart is the login the demo prints; it
// is admin of both example departments. The other two accounts give each
// department a second member with another role.
const (
	StaffLocalpart        = "sachbearbeiterin"
	BauamtLeadLocalpart   = "bauamt-leitung"
	BuergerbueroLocalpart = "buergerbuero-team"
	AuthorityName         = "Stadt Demoheim"
)

// Options configure Run.
type Options struct {
	// Dir is the state directory.
	Dir string
	// HSPort, FedPort, ASPort and ChatPort are the loopback ports of
	// Dendrite's client API, Dendrite's federation API, rathaus's appservice
	// listener and rathaus's guest chat for citizens.
	HSPort, FedPort, ASPort, ChatPort int
	// RathausBin and DendriteBin are the executables.
	RathausBin, DendriteBin string
	// LiveKitBin, if set, is livekit-server: calls run on LiveKit
	// (make run VIDEO=livekit; livekit.go).
	LiveKitBin string
	// Quiet keeps rathaus's log out of Stdout; it still goes to its file.
	Quiet bool
	// Fresh moves an existing state directory aside (to <Dir>.old-<time>)
	// and starts a new demo, e.g. after a change of the federation port,
	// which the old directory cannot follow.
	Fresh bool
	// Stdout receives the progress, the instructions and, unless Quiet,
	// rathaus's log; Stderr receives errors.
	Stdout, Stderr io.Writer
}

// ServerName is the homeserver's server name.
func (o Options) ServerName() string { return "localhost:" + strconv.Itoa(o.FedPort) }

// HomeserverURL is the client-server API URL users enter in their client.
func (o Options) HomeserverURL() string { return "http://127.0.0.1:" + strconv.Itoa(o.HSPort) }

// ASListen is the address rathaus listens on for the homeserver.
func (o Options) ASListen() string { return "127.0.0.1:" + strconv.Itoa(o.ASPort) }

// ChatListen is the address of rathaus's guest chat (guest_chat.listen).
// Browsers reach it under the same address: public_url is derived from it.
func (o Options) ChatListen() string { return "127.0.0.1:" + strconv.Itoa(o.ChatPort) }

// parseOptions reads flags, whose defaults come from the environment.
func parseOptions(args []string, stdout, stderr io.Writer) (Options, error) {
	opts := Options{Stdout: stdout, Stderr: stderr}
	var err error
	envPort := func(name string, def int) int {
		v := os.Getenv(name)
		if v == "" {
			return def
		}
		port, perr := strconv.Atoi(v)
		if perr != nil || port < 1 || port > 65535 {
			err = fmt.Errorf("%s=%q is not a port number (1-65535)", name, v)
			return def
		}
		return port
	}
	hsPort := envPort(EnvHSPort, DefaultHSPort)
	fedPort := envPort(EnvFedPort, DefaultFedPort)
	asPort := envPort(EnvASPort, DefaultASPort)
	chatPort := envPort(EnvChatPort, DefaultChatPort)
	if err != nil {
		return opts, err
	}

	fs := flag.NewFlagSet("rathaus-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: rathaus-demo [flags]\n\n"+
			"Runs rathaus with a local Dendrite homeserver; normally started by `make run`.\n"+
			"Environment: %s (default %s), %s (%d), %s (%d), %s (%d), %s (%d), %s.\n\nFlags:\n",
			EnvDir, DefaultDir, EnvHSPort, DefaultHSPort, EnvFedPort, DefaultFedPort, EnvASPort, DefaultASPort, EnvChatPort, DefaultChatPort, EnvFresh)
		fs.PrintDefaults()
	}
	fs.StringVar(&opts.Dir, "dir", envOr(EnvDir, DefaultDir), "state directory (env "+EnvDir+")")
	fs.IntVar(&opts.HSPort, "hs-port", hsPort, "Dendrite client API port (env "+EnvHSPort+")")
	fs.IntVar(&opts.FedPort, "fed-port", fedPort, "Dendrite federation port; the server name is localhost:<port> (env "+EnvFedPort+")")
	fs.IntVar(&opts.ASPort, "as-port", asPort, "rathaus appservice port (env "+EnvASPort+")")
	fs.IntVar(&opts.ChatPort, "chat-port", chatPort, "rathaus guest chat port, the citizens' web chat (env "+EnvChatPort+")")
	fs.StringVar(&opts.RathausBin, "rathaus", envOr(EnvRathausBin, defaultRathausBin()), "rathaus executable (env "+EnvRathausBin+")")
	fs.StringVar(&opts.DendriteBin, "dendrite", envOr(EnvDendriteBin, DefaultDendriteBin), "Dendrite executable (env "+EnvDendriteBin+")")
	fs.StringVar(&opts.LiveKitBin, "livekit", "", "livekit-server executable: run the calls on LiveKit (make run VIDEO=livekit)")
	fs.BoolVar(&opts.Quiet, "quiet", os.Getenv(EnvQuiet) != "", "do not echo rathaus's log (env "+EnvQuiet+"=1)")
	fs.BoolVar(&opts.Fresh, "fresh", os.Getenv(EnvFresh) != "", "move the state directory aside to <dir>.old-<time> and start a new demo (env "+EnvFresh+"=1)")
	if err := fs.Parse(args); err != nil {
		return opts, err
	}
	if fs.NArg() > 0 {
		return opts, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return opts, opts.validate()
}

func (o Options) validate() error {
	ports := map[int]string{}
	for _, p := range []struct {
		name string
		port int
	}{{"hs-port", o.HSPort}, {"fed-port", o.FedPort}, {"as-port", o.ASPort}, {"chat-port", o.ChatPort}} {
		if p.port < 1 || p.port > 65535 {
			return fmt.Errorf("-%s %d is not a port number (1-65535)", p.name, p.port)
		}
		if other, ok := ports[p.port]; ok {
			return fmt.Errorf("-%s and -%s are both %d; each needs its own port", other, p.name, p.port)
		}
		ports[p.port] = p.name
	}
	if o.Dir == "" {
		return fmt.Errorf("the state directory must not be empty")
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// defaultRathausBin is rathaus next to this executable, where make puts it.
func defaultRathausBin() string {
	self, err := os.Executable()
	if err != nil {
		return "bin/rathaus"
	}
	return filepath.Join(filepath.Dir(self), "rathaus")
}
