// Command hero_codescalers_plugins is every built-in plugin in one binary
// (issue 15: ten binaries of ~21 MB each were ~210 MB installed, one
// holding them all is about a tenth of that). Each plugin keeps its own
// path, plugins/NAME, a hard link to this binary with NAME.manifest.json
// beside it, and is listed, chosen, started, restarted, pinned in sudoers
// and conformance-checked by that path, one by one, as before; run by that
// name (the base name of argv[0]) the binary is that plugin and nothing
// else. Run by any other name it refuses, so a link of an unknown name is
// never some plugin by accident.
//
// Hard links, not symlinks: the host names a plugin by its real,
// symlink-free path (what it hashes, runs and pins in sudoers, since sudo
// matches real paths), so a symlink would run every plugin under this
// binary's name. A hard link is a regular file at the plugin's own path.
// Its sudoers rule pins the digest, which is the same for every name (it
// pins the build), and the path, which is the name: sudo allows a command
// only where the rule's directory, base name and inode all match, and runs
// it with that path as argv[0], so the rule of one plugin never starts
// another.
//
// Adding a built-in plugin is its line in builtin (and its import);
// plugins/NAME is a library package whose Main serves it. One plugin on
// its own is a main of two lines calling its Main (make bench builds each
// so, as the baseline of the installed size).
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/threefoldtech/hero_codescalers/plugins/authorizedkeysd"
	"github.com/threefoldtech/hero_codescalers/plugins/btrfs"
	"github.com/threefoldtech/hero_codescalers/plugins/cgroupfs"
	"github.com/threefoldtech/hero_codescalers/plugins/dir"
	"github.com/threefoldtech/hero_codescalers/plugins/files"
	"github.com/threefoldtech/hero_codescalers/plugins/logind"
	"github.com/threefoldtech/hero_codescalers/plugins/mode"
	"github.com/threefoldtech/hero_codescalers/plugins/openssh"
	"github.com/threefoldtech/hero_codescalers/plugins/posixacl"
	"github.com/threefoldtech/hero_codescalers/plugins/procfs"
	"github.com/threefoldtech/hero_codescalers/plugins/shadow"
	"github.com/threefoldtech/hero_codescalers/plugins/systemd"
)

// builtin maps each built-in plugin's name, the name of its link, to its
// Main (which serves it and never returns).
var builtin = map[string]func(version string){
	"authorizedkeysd": authorizedkeysd.Main,
	"btrfs":           btrfs.Main,
	"cgroupfs":        cgroupfs.Main,
	"dir":             dir.Main,
	"files":           files.Main,
	"logind":          logind.Main,
	"mode":            mode.Main,
	"openssh":         openssh.Main,
	"posixacl":        posixacl.Main,
	"procfs":          procfs.Main,
	"shadow":          shadow.Main,
	"systemd":         systemd.Main,
}

// version is stamped at build: go build -ldflags "-X main.version=1.2.3"
// (make plugins stamps the release in VERSION). The host ranks plugins of
// a concern by it; a build without the stamp is a pre-release of 0.0.0.
var version = "0.0.0-dev"

// Self is this binary's own name: run by it, "list" prints the plugins'
// names, one a line (make plugins links each).
const Self = "hero_codescalers_plugins"

func main() {
	name := filepath.Base(os.Args[0])
	if serve, ok := builtin[name]; ok {
		serve(version)
		return
	}
	os.Exit(refuse(name, os.Args[1:], os.Stdout, os.Stderr))
}

// refuse answers a run by a name that is no plugin's: "list" under the
// binary's own name, a usage error otherwise.
func refuse(name string, args []string, stdout, stderr io.Writer) int {
	names := make([]string, 0, len(builtin))
	for n := range builtin {
		names = append(names, n)
	}
	slices.Sort(names)
	if name == Self && len(args) == 1 && args[0] == "list" {
		fmt.Fprintln(stdout, strings.Join(names, "\n"))
		return 0
	}
	if name == Self {
		fmt.Fprintf(stderr, "usage: %s list\n\nThis binary is every built-in hero_codescalers plugin; run by a plugin's name\n"+
			"(a hard link plugins/NAME) it is that plugin. \"list\" prints the names: %s.\n", Self, strings.Join(names, ", "))
		return 2
	}
	fmt.Fprintf(stderr, "%s: not a built-in plugin's name; this binary (%s) runs only as one of %s\n",
		name, Self, strings.Join(names, ", "))
	return 2
}
