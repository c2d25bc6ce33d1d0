// Command hero_codescalers drives the hero_codescalers host: every API call
// from the shell, and the background host's lifecycle (--start, --stop,
// --status). It links no host code, so it starts quickly; serve, plugin
// check and setup driver hand over to hero_codescalers_server. All of it
// lives in package cli; this only wires the process to it.
package main

import (
	"os"

	"github.com/threefoldtech/hero_codescalers/cli"
)

func main() { os.Exit(cli.Main(cli.OSEnv(), nil)) }
