package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// ServerName is the binary that runs the host's own code.
const ServerName = "hero_codescalers_server"

// Server is what hero_codescalers_server adds to the command line: the
// three commands that run the host's own code — serve (the host), plugin
// check (the conformance kit) and setup driver (the machine set-up).
// Package cli/server implements it and the server binary passes it to
// Main; hero_codescalers passes nil, so it links none of that code and
// starts in a fraction of the time, and those three commands replace it
// with hero_codescalers_server (handOver).
//
// Everything else — parsing, paths, the pid file, output, exit codes —
// stays here, so both binaries have one command tree and answer alike.
type Server interface {
	// Serve runs the host until ctx ends. An error made with UsageError
	// exits 2; any other exits 1.
	Serve(ctx context.Context, cfg ServeConfig) error
	// CheckPlugin runs the conformance kit against a plugin binary.
	CheckPlugin(ctx context.Context, req PluginCheck) (PluginReport, error)
	// SetupDriver creates the driver account and writes the digest-pinned
	// sudoers file and the policy, saying what it did on req.Out; with
	// req.Check it only reports, failing when something is missing.
	SetupDriver(ctx context.Context, req DriverSetup) error
}

// ServeConfig is what serve resolved for the host: the paths, the flags
// and the environment it needs, in the CLI's own terms.
type ServeConfig struct {
	Paths       api.Paths
	Secret      string // SECRET_CODESCALERS
	AdminGroup  string
	SocketGroup string
	HomeRoot    string
	PluginDirs  []string // the --plugin-dir flags, absolute
	PluginPins  []string // the --plugin flags as given: CONCERN=NAME
	NoPlugins   bool
	Limits      Limits // the connection cap and the audit retention
	NodeName    string // --node-name
	NATSURL     string // --nats-url, or HERO_CODESCALERS_NATS_URL
	// DashboardOpen, TLSCert and TLSKey shape the dashboard's TCP
	// listener (the address and port are in Paths).
	DashboardOpen   bool
	TLSCert, TLSKey string
	Adopt           bool      // import the machine's managed users at start
	MarkerDir       string    // where the data dirs used are recorded
	Log             io.Writer // where the host logs: the process's stderr
	Ready           func()    // call once the API answers
	// LogLevel and LogFormat are --log-level and --log-format ("":
	// info, text).
	LogLevel, LogFormat string
	// WhitelistSeed is the config file's whitelist (nil: none).
	WhitelistSeed []string
	// Reload re-reads the command line and the config file as serve did
	// (SIGHUP): the new settings, and the keys that changed but need a
	// restart. nil: nothing to re-read.
	Reload func() (ServeConfig, []string, error)
}

// PluginCheck is a `plugin check` request.
type PluginCheck struct {
	Path        string
	Destructive bool
	Scratch     string
	Keep        []string
	Timeout     time.Duration
}

// PluginReport is what `plugin check` prints: Report as it is under
// --json, a table of Results otherwise.
type PluginReport struct {
	Report                any
	Name, Version, Binary string
	Results               []CheckResult
	Passed                bool
}

// CheckResult is one row of a PluginReport.
type CheckResult struct{ Name, Status, Reason string }

// DriverSetup is a `setup driver` request.
type DriverSetup struct {
	User       string
	Home       string   // the account's home if setup creates it; "" is the default
	PluginDirs []string // the --plugin-dir flags, absolute
	Out        io.Writer
	// What a new policy holds: home roots, marker group, the groups a
	// managed user may join by name; RewritePolicy replaces an existing
	// one.
	HomeRoots     []string
	MarkerGroup   string
	AllowGroups   []string
	RewritePolicy bool
	// Check changes nothing: it reports what is in place, failing when
	// something is not.
	Check bool
}

// UsageError makes err a usage error: exit 2, worded like a parse error.
func UsageError(err error) error { return &exitError{code: ExitUsage, err: err} }

// execve is syscall.Exec; tests replace it.
var execve = syscall.Exec

// handOver replaces this process with hero_codescalers_server, given the
// same arguments and environment. It is an exec, not a child: the pid
// stays, so whoever started this process (a shell, systemd, a test)
// signals and waits for the host itself and gets its exit code. It returns
// only when the server is missing or the exec fails.
func (rt *runCtx) handOver() error {
	bin, err := rt.serverBinary()
	if err != nil {
		return err
	}
	args, env := natsURLToEnv(rt.env.Args, rt.env.environ())
	err = execve(bin, append([]string{bin}, args...), env)
	return failf("run %s: %v", bin, err)
}

// natsURLToEnv moves --nats-url from args into env: the host keeps its
// command line for its whole life, where every local user can read it in
// /proc, and the URL may carry a password. The host takes the environment
// as it takes the flag (both beat the config file).
func natsURLToEnv(args, env []string) ([]string, []string) {
	out := make([]string, 0, len(args))
	url, found := "", false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			out = append(out, args[i:]...)
			i = len(args)
		case a == "--nats-url" && i+1 < len(args):
			url, found = args[i+1], true
			i++
		case strings.HasPrefix(a, "--nats-url="):
			url, found = strings.TrimPrefix(a, "--nats-url="), true
		default:
			out = append(out, a)
		}
	}
	if !found {
		return args, env
	}
	kept := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, api.EnvNATSURL+"=") {
			kept = append(kept, kv)
		}
	}
	return out, append(kept, api.EnvNATSURL+"="+url)
}

// hostBinary is the program start runs as `serve`: this one when it is the
// server, hero_codescalers_server otherwise.
func (rt *runCtx) hostBinary() (string, error) {
	if rt.srv == nil {
		return rt.serverBinary()
	}
	self, err := os.Executable()
	if err != nil {
		return "", failf("cannot find this program to start the host: %v", err)
	}
	return self, nil
}

// serverBinary finds hero_codescalers_server.
func (rt *runCtx) serverBinary() (string, error) {
	self, _ := os.Executable()
	return findServer(self, rt.env.Getenv("PATH"))
}

// LibDir is where the package installs the server and the plugins
// (/usr/bin holds only the CLI, as Debian wants programs a user runs).
const LibDir = "/usr/lib/hero_codescalers"

// findServer looks beside self first, so a build's bin/ or an install's
// directory runs its own pair, then in the absolute directories of
// pathEnv (relative ones are skipped, as os/exec refuses them), then in
// LibDir, where the package puts it.
func findServer(self, pathEnv string) (string, error) {
	beside := ""
	if self != "" {
		beside = filepath.Dir(self)
		if p := filepath.Join(beside, ServerName); isExecutable(p) {
			return p, nil
		}
	}
	if p := lookPath(ServerName, append(filepath.SplitList(pathEnv), LibDir)); p != "" {
		return p, nil
	}
	where := "beside this program"
	if beside != "" {
		where = "in " + beside + " (beside " + filepath.Base(self) + ")"
	}
	if pathEnv == "" {
		pathEnv = "empty"
	}
	return "", failf("%s not found %s nor on $PATH (%s); serve, plugin check and setup driver run in it: build or install it beside hero_codescalers (make build, make install)",
		ServerName, where, pathEnv)
}

// lookPath is the first program name in the absolute directories of dirs
// ($PATH's, split), or "" (relative ones are skipped, as os/exec refuses
// them).
func lookPath(name string, dirs []string) string {
	for _, dir := range dirs {
		if p := filepath.Join(dir, name); filepath.IsAbs(dir) && isExecutable(p) {
			return p
		}
	}
	return ""
}

// isExecutable reports whether path is a regular file someone may run.
func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// selfCommand is how the person at the terminal runs hero_codescalers, for
// the hints this program prints (see commandFor).
func (rt *runCtx) selfCommand() string {
	self, err := os.Executable()
	if err != nil {
		return "hero_codescalers"
	}
	wd, _ := os.Getwd()
	return commandFor(self, wd, rt.env.Getenv("PATH"))
}

// commandFor is how to run the hero_codescalers beside the program self
// from the directory wd: its bare name when pathEnv finds that same
// program (or there is none beside self), else its path — make run starts
// bin/hero_codescalers_server, and the bin/hero_codescalers beside it is
// on no $PATH.
func commandFor(self, wd, pathEnv string) string {
	const name = "hero_codescalers"
	cli := filepath.Join(filepath.Dir(self), name)
	if !isExecutable(cli) {
		return name
	}
	if on := lookPath(name, filepath.SplitList(pathEnv)); on != "" && sameFile(on, cli) {
		return name
	}
	if rel, err := filepath.Rel(wd, cli); err == nil && filepath.IsAbs(wd) && filepath.IsLocal(rel) {
		if !strings.ContainsRune(rel, filepath.Separator) {
			rel = "." + string(filepath.Separator) + rel
		}
		return shellQuote(rel)
	}
	return shellQuote(cli)
}

// sameFile reports whether paths a and b name one file.
func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}
