// Package cli implements the rathaus command line: subcommands, flags,
// exit codes and the process lifecycle of `rathaus run`.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/rathaus-de/rathaus"
	"github.com/rathaus-de/rathaus/config"
)

// Exit codes.
const (
	ExitOK = 0
	// ExitFailure: rathaus could not start or stopped with an error.
	ExitFailure = 1
	// ExitUsage: unknown subcommand or bad flags.
	ExitUsage = 2
	// ExitInvalidConfig: the config file is missing, unreadable or invalid.
	ExitInvalidConfig = 10
)

const usage = `rathaus – Matrix application service for public authorities

Usage:
  rathaus run -c config.yaml                      start rathaus
  rathaus generate-registration -c config.yaml -o registration.yaml
                                                  write the homeserver registration with
                                                  fresh tokens (also stored in the config);
                                                  tokens already set are replaced only with
                                                  -rotate (both files backed up first)
  rathaus check-config -c config.yaml             report every config problem
                                                  (exit 0 if valid, 10 if not)
  rathaus parked -c config.yaml [-requeue all|SEQ,SEQ] [-requeue-jobs all|ID,ID]
                                                  list the homeserver's events and the outbox
                                                  jobs (webhooks) that failed every retry, or
                                                  hand them back to rathaus
  rathaus ozg-key [-id ID] SERVICE                make an API key for an online service's
                                                  backend (intake API); prints the key once
                                                  and the api_keys entry with its SHA-256
  rathaus example-config                          print the documented example config
  rathaus version                                 print the version
`

// Main runs the command line and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return ExitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return runCommand(rest, stdout, stderr)
	case "generate-registration":
		return generateRegistration(rest, stdout, stderr)
	case "check-config":
		return checkConfig(rest, stdout, stderr)
	case "parked":
		return parkedCommand(rest, stdout, stderr)
	case "ozg-key":
		return ozgKeyCommand(rest, stdout, stderr)
	case "example-config":
		_, _ = stdout.Write(rathaus.ExampleConfig)
		return ExitOK
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "rathaus %s\n", rathaus.Version)
		return ExitOK
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return ExitOK
	default:
		fmt.Fprintf(stderr, "rathaus: unknown command %q\n\n%s", cmd, usage)
		return ExitUsage
	}
}

// newFlags returns a flag set that reports errors to stderr.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("rathaus "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses and rejects stray positional arguments and, for
// commands that take a config file, a missing -c: all usage errors.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) bool {
	if err := fs.Parse(args); err != nil {
		return false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return false
	}
	if c := fs.Lookup("c"); c != nil && c.Value.String() == "" {
		fmt.Fprintf(stderr, "%s: missing -c config.yaml (print an example with `rathaus example-config`)\n", fs.Name())
		return false
	}
	return true
}

// loadConfig loads a config file. It returns the config even when it is
// invalid (with the ValidationErrors) so callers may ignore some keys.
func loadConfig(path string, stderr io.Writer) (*config.Config, config.ValidationErrors, bool) {
	if path == "" {
		fmt.Fprintln(stderr, "rathaus: missing -c config.yaml (print an example with `rathaus example-config`)")
		return nil, nil, false
	}
	cfg, err := config.Load(path)
	var problems config.ValidationErrors
	if errors.As(err, &problems) {
		return cfg, problems, true
	} else if err != nil {
		fmt.Fprintf(stderr, "rathaus: cannot load %s: %v\n", path, err)
		return nil, nil, false
	}
	return cfg, nil, true
}

func printProblems(w io.Writer, path string, problems config.ValidationErrors) {
	fmt.Fprintf(w, "%s has %d problem(s):\n", path, len(problems))
	for _, p := range problems {
		fmt.Fprintf(w, "  %s\n", strings.TrimSpace(p.Error()))
	}
}

// loadValidConfig loads a config that must be valid; otherwise it prints
// every problem and returns the exit code to end with.
func loadValidConfig(path string, stderr io.Writer) (*config.Config, int) {
	cfg, problems, ok := loadConfig(path, stderr)
	if !ok {
		return nil, ExitInvalidConfig
	}
	if len(problems) > 0 {
		printProblems(stderr, path, problems)
		return nil, ExitInvalidConfig
	}
	return cfg, ExitOK
}

func checkConfig(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("check-config", stderr)
	path := fs.String("c", "", "path to the config file")
	if !parseFlags(fs, args, stderr) {
		return ExitUsage
	}
	if _, code := loadValidConfig(*path, stderr); code != ExitOK {
		return code
	}
	fmt.Fprintf(stdout, "%s is valid\n", *path)
	return ExitOK
}
