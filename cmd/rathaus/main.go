// Command rathaus is the rathaus Matrix application service. See
// `rathaus help` and the README.
package main

import (
	"os"

	"github.com/rathaus-de/rathaus/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
