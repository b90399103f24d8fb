package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/ozg"
)

// ozgKeyCommand is `rathaus ozg-key [-id ID] SERVICE`: it makes an API
// key for an online service's backend and prints the key (once; rathaus
// keeps only its hash) and the config entry with its SHA-256. It reads no
// config: the key can be made anywhere and the entry pasted in.
func ozgKeyCommand(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("ozg-key", stderr)
	keyID := fs.String("id", time.Now().UTC().Format("2006-01-02"), "the key's id in api_keys (default: today's date)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: rathaus ozg-key [-id ID] SERVICE")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "rathaus ozg-key: name one service id (ozg.services[].id)")
		return ExitUsage
	}
	service := fs.Arg(0)
	if !config.ValidOZGServiceID(service) {
		fmt.Fprintf(stderr, "rathaus ozg-key: %q is no service id (1–32 of a-z, 0-9 and \"-\")\n", service)
		return ExitUsage
	}
	if !config.ValidOZGAPIKeyID(*keyID) {
		fmt.Fprintf(stderr, "rathaus ozg-key: -id %q must be 1–32 of A-Z, a-z, 0-9, \".\", \"_\" and \"-\"\n", *keyID)
		return ExitUsage
	}
	key, err := ozg.NewAPIKey()
	if err != nil {
		fmt.Fprintf(stderr, "rathaus ozg-key: %v\n", err)
		return ExitFailure
	}
	fmt.Fprintf(stdout, `API key for the online service %q. It is shown only now: give it to the
service's operator over a safe channel (the backend sends it as
"Authorization: Bearer <key>").

  %s

Add this entry to the api_keys of ozg.services (id: %s) and reload
rathaus (SIGHUP); remove the key it replaces once the backend uses this one:

      api_keys:
        - id: %q
          sha256: %q
`, service, key, service, *keyID, config.HashAPIKey(key))
	return ExitOK
}
