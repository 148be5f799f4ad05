// Command keyway is a self-hosted credential proxy for third-party APIs.
// Run `keyway help` for the commands.
package main

import (
	"os"

	"github.com/keyway-dev/keyway/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv))
}
