// Command hero_codescalers_server runs the hero_codescalers host: serve in
// the foreground, or the background host that `hero_codescalers --start`
// launches. It has the whole command line of hero_codescalers plus the
// code behind serve, plugin check and setup driver (package cli/server).
package main

import (
	"os"

	"github.com/threefoldtech/hero_codescalers/cli"
	"github.com/threefoldtech/hero_codescalers/cli/server"
)

func main() { os.Exit(cli.Main(cli.OSEnv(), server.New())) }
