package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/alecthomas/kong"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// Env is what the CLI takes from its process: arguments, streams and the
// environment. Tests give their own, so the whole command tree runs
// in-process with no global state.
type Env struct {
	Args   []string // without the program name
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// Environ is the whole environment, which a hand-over to
	// hero_codescalers_server passes on; nil means os.Environ.
	Environ func() []string
}

// OSEnv is the Env of the running process.
func OSEnv() Env {
	return Env{Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Environ: os.Environ}
}

// environ is Environ, or the process's own environment.
func (e Env) environ() []string {
	if e.Environ == nil {
		return os.Environ()
	}
	return e.Environ()
}

// CLI is the command tree. The globals are embedded so that every flag
// works before or after the command name.
type CLI struct {
	Globals

	Version kong.VersionFlag `help:"Print the version of hero_codescalers and exit."`

	Lifecycle lifecycleCmd `cmd:"" default:"1" hidden:"" help:"Act on --start, --stop or --status."`

	Serve  serveCmd  `cmd:"" group:"Lifecycle" help:"Run the host in the foreground until SIGTERM or SIGINT."`
	Start  startCmd  `cmd:"" group:"Lifecycle" help:"Start the host in the background; returns once it answers."`
	Stop   stopCmd   `cmd:"" group:"Lifecycle" help:"Stop the background host and wait for it to exit."`
	Status statusCmd `cmd:"" group:"Lifecycle" help:"Is the host running? Exit 0 if so, 3 if not."`

	Health healthCmd     `cmd:"" group:"Host" help:"Liveness, version, uptime and plugin states."`
	Stats  statsCmd      `cmd:"" group:"Host" help:"Counts, uptime, version and plugin summary."`
	Plugin pluginListCmd `cmd:"" name:"plugin-list" group:"Host" help:"The plugins the host runs, one per concern."`
	Audit  auditListCmd  `cmd:"" name:"audit-list" group:"Host" help:"The audit log of mutating calls, newest first."`
	Config configCmd     `cmd:"" group:"Host" help:"The host's config file: config show prints the effective settings and their sources."`

	PluginApprove pluginApproveCmd `cmd:"" name:"plugin-approve" group:"Plugins" help:"Approve the binary now chosen for a concern after its sha256 changed."`
	PluginCheck   struct {
		Check pluginCheckCmd `cmd:"" help:"Run the conformance kit against a plugin binary: plugin check PATH."`
	} `cmd:"" name:"plugin" group:"Plugins" help:"Plugin tools."`
	Setup setupCmd `cmd:"" group:"Plugins" help:"One-time machine set-up for an unprivileged host."`

	UserCreate    userCreateCmd    `cmd:"" group:"Users" help:"Create a user, or many with --from users.csv; prints the generated public key."`
	UserDelete    userDeleteCmd    `cmd:"" group:"Users" help:"Delete a managed user: its sessions and every other process, home (unless --keep-home), account."`
	UserGet       userGetCmd       `cmd:"" group:"Users" help:"Show one user."`
	UserList      userListCmd      `cmd:"" group:"Users" help:"List users, by name prefix, group and state, a page at a time."`
	UserReset     userResetCmd     `cmd:"" group:"Users" help:"Re-apply a user's layout and print each repair."`
	UserLock      userLockCmd      `cmd:"" group:"Users" help:"Lock an account and end its sessions and every other process of it."`
	UserUnlock    userUnlockCmd    `cmd:"" group:"Users" help:"Unlock an account."`
	UserKeyAdd    userKeyAddCmd    `cmd:"" group:"Users" help:"Add public keys: NAME KEY... or --file FILE."`
	UserKeyRemove userKeyRemoveCmd `cmd:"" group:"Users" help:"Remove a public key, whole or by SHA256 fingerprint."`
	UserLimits    userLimitsCmd    `cmd:"" group:"Users" help:"Set a user's CPU and memory limits: NAME --cpu CORES --memory SIZE (0 lifts one)."`
	UserQuota     userQuotaCmd     `cmd:"" group:"Users" help:"Set a user's home quota: NAME SIZE (0 removes the limit)."`
	Reconcile     reconcileCmd     `cmd:"" group:"Users" help:"Report drift between the state and the machine; exit 1 if any."`

	SessionList sessionListCmd `cmd:"" group:"Sessions" help:"List login sessions, of one user or all."`
	SessionKill sessionKillCmd `cmd:"" group:"Sessions" help:"End a user's sessions, or one with --session."`

	FleetInit   fleetInitCmd   `cmd:"" group:"Fleet" help:"Make a new fleet with this host as its first node; prints the command the others run. Needs SECRET_CODESCALERS."`
	FleetJoin   fleetJoinCmd   `cmd:"" group:"Fleet" help:"Join a fleet: HOST:PORT of any node (as fleet-init printed it). Needs SECRET_CODESCALERS."`
	FleetStatus fleetStatusCmd `cmd:"" group:"Fleet" help:"The fleet node by node: reachable, revision applied, drift."`
	NodeAdd     nodeAddCmd     `cmd:"" group:"Fleet" help:"Add a node: NAME ADDRESS [--label k=v]... (in a fleet: registered before it joins)."`
	NodeRemove  nodeRemoveCmd  `cmd:"" group:"Fleet" help:"Remove a node (in a fleet: evict it; it keeps its accounts as local ones)."`
	NodeList    nodeListCmd    `cmd:"" group:"Fleet" help:"List the nodes: in a fleet live, with labels, version, last seen, converged or how far behind."`
	NodeGet     nodeGetCmd     `cmd:"" group:"Fleet" help:"Show one node."`
	NodeLabel   nodeLabelCmd   `cmd:"" group:"Fleet" help:"Set or remove a fleet node's labels: NAME zone=eu | NAME zone-."`
	UserPlace   userPlaceCmd   `cmd:"" group:"Fleet" help:"Change where a fleet user lives: NAME SELECTOR (zone=eu,role=gpu; none: every node)."`

	GroupCreate groupCreateCmd `cmd:"" group:"Groups" help:"Create a group."`
	GroupDelete groupDeleteCmd `cmd:"" group:"Groups" help:"Delete a group."`
	GroupList   groupListCmd   `cmd:"" group:"Groups" help:"List groups."`
	GroupGet    groupGetCmd    `cmd:"" group:"Groups" help:"Show one group."`

	GroupMemberAdd    groupMemberAddCmd    `cmd:"" group:"Groups" help:"Add a user to a group: GROUP USER."`
	GroupMemberRemove groupMemberRemoveCmd `cmd:"" group:"Groups" help:"Remove a user from a group: GROUP USER."`

	WhitelistGet    whitelistGetCmd    `cmd:"" group:"Dashboard access" help:"Show the dashboard's TCP access list."`
	WhitelistSet    whitelistSetCmd    `cmd:"" group:"Dashboard access" help:"Replace the access list with ADDR..."`
	WhitelistAdd    whitelistAddCmd    `cmd:"" group:"Dashboard access" help:"Add one address or prefix to the access list."`
	WhitelistRemove whitelistRemoveCmd `cmd:"" group:"Dashboard access" help:"Remove one address or prefix from the access list."`
	WhitelistClear  whitelistClearCmd  `cmd:"" group:"Dashboard access" help:"Empty the access list: the dashboard then serves no data over TCP (admin.sock still works; --dashboard-open admits every TCP peer)."`

	RPC        rpcCmd        `cmd:"" name:"rpc" group:"Other" help:"Call any method: METHOD [JSON-PARAMS]; prints the raw result."`
	Completion completionCmd `cmd:"" group:"Other" help:"Print a shell completion script: bash, zsh or fish."`
	Man        manCmd        `cmd:"" group:"Other" help:"Print the manual page hero_codescalers(1), made from this command tree (roff)."`
	Complete   completeCmd   `cmd:"" name:"__complete" hidden:"" help:"Print the host's user, group or node names for completion."`
}

// exitPanic carries kong's exit request (after --help) out of Parse, so
// Main can return the code instead of the process exiting under a test.
type exitPanic int

// newParser builds the kong parser around tree (a *CLI, or what
// commandTree made of it), writing to env's streams.
func newParser(tree any, env Env) (*kong.Kong, error) {
	return kong.New(tree,
		kong.Name("hero_codescalers"),
		kong.Description("Multi-user development servers: run and drive the hero_codescalers host."),
		kong.Writers(env.Stdout, env.Stderr),
		kong.Exit(func(code int) { panic(exitPanic(code)) }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, NoExpandSubcommands: true}),
		kong.Help(helpWithExitCodes),
		kong.Vars{"version": "hero_codescalers " + api.Version},
	)
}

// helpWithExitCodes is kong's help, followed at the top level by the
// exit codes: scripts branch on them, so --help lists them.
func helpWithExitCodes(opts kong.HelpOptions, ctx *kong.Context) error {
	if err := kong.DefaultHelpPrinter(opts, ctx); err != nil {
		return err
	}
	if sel := ctx.Selected(); sel != nil && sel.Name != "lifecycle" {
		return nil
	}
	fmt.Fprintln(ctx.Stdout, "\nExit codes:")
	for _, c := range exitClasses {
		fmt.Fprintf(ctx.Stdout, "  %d  %-15s %s\n", c.Code, c.Kind, c.Text)
	}
	return nil
}

// Main runs the command line in env and returns the process exit code.
// srv is the server's code (package cli/server) in hero_codescalers_server;
// nil in hero_codescalers, whose serve, plugin check and setup driver then
// hand over to hero_codescalers_server (see Server).
func Main(env Env, srv Server) (code int) {
	tree, g := commandTree(env.Args)
	parser, err := newParser(tree, env)
	if err != nil { // a malformed command tree: a bug, caught by the tests
		fmt.Fprintln(env.Stderr, "hero_codescalers: internal error:", err)
		return ExitFailed
	}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(exitPanic)
			if !ok {
				panic(r)
			}
			code = int(e)
		}
	}()
	kctx, err := parser.Parse(env.Args)
	if err == nil {
		err = checkLifecycleFlags(g, kctx)
	}
	if err == nil {
		err = checkHostFlags(g, kctx)
	}
	if err != nil {
		fmt.Fprint(env.Stderr, usageText(err))
		if slices.Contains(env.Args, "--json") {
			writeJSONError(env.Stdout, ExitUsage, err, err.Error())
		}
		return ExitUsage
	}
	rt := &runCtx{ctx: context.Background(), env: env, g: g, kctx: kctx, srv: srv}
	if err := rt.applyConfig(); err != nil {
		return rt.report(err)
	}
	return rt.report(kctx.Run(rt))
}

// checkLifecycleFlags refuses --start/--stop/--status next to a command:
// `--start health` has no sensible meaning, and silently ignoring either
// half would surprise.
func checkLifecycleFlags(g *Globals, kctx *kong.Context) error {
	flag := g.lifecycleFlag()
	if flag == "" || kctx.Selected() == nil || kctx.Selected().Name == "lifecycle" {
		return nil
	}
	return fmt.Errorf("%s cannot be combined with the %s command", flag, kctx.Selected().Name)
}

// exitError ends a command with a code. A nil err prints nothing more: the
// command has already said what happened (status of a stopped host).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageErrorf is a bad command line found after parsing, such as JSON
// params that do not parse.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// failf is a lifecycle or local failure: exit 1 with a message.
func failf(format string, args ...any) error {
	return &exitError{code: ExitFailed, err: fmt.Errorf(format, args...)}
}

// partialf is the exit error of a call over many items (users of a batch,
// nodes of a fleet) some of which failed: exit 8.
func partialf(format string, args ...any) error {
	return &exitError{code: ExitPartial, err: fmt.Errorf(format, args...)}
}

// errSilent3 ends `status` of a stopped host: exit 3, already explained.
var errSilent3 = &exitError{code: ExitUnreachable}

// asExit finds an exitError in err's chain.
func asExit(err error) (*exitError, bool) {
	var e *exitError
	ok := errors.As(err, &e)
	return e, ok
}
