// Command rathaus-demo runs rathaus with a local Dendrite homeserver, as
// `make run` does. See internal/demo for what it does and its settings.
package main

import (
	"os"

	"github.com/rathaus-de/rathaus/internal/demo"
)

func main() {
	os.Exit(demo.Main(os.Args[1:], os.Stdout, os.Stderr))
}
