// Command hero_codescalers runs and drives the hero_codescalers host: the
// daemon in the foreground (serve) or background (--start), and every API
// call from the shell. All of it lives in package cli; this only wires the
// process to it.
package main

import (
	"os"

	"github.com/threefoldtech/hero_codescalers/cli"
)

func main() { os.Exit(cli.Main(cli.OSEnv())) }
