// Package plugintest is the conformance kit every hero_codescalers plugin
// passes, like CSI's csi-sanity: it starts a plugin binary (in Go or not)
// the way the host does, over go-plugin with sdk.Handshake and AutoMTLS,
// and checks the handshake, that only the host's certificate reaches the
// plugin (mtls), Identity and the manifest, Probe, that every served concern
// answers, typed InvalidArgument errors for bad input, idempotent create
// and delete where that is safe, that a volumes, acl or sshkeys plugin
// refuses paths outside its policy's roots and leaves them untouched
// (the fence), a volumes plugin's Sync (and files it writes under
// DeferSync), a clean stdout, and that the plugin exits on SIGTERM and
// when its host dies. Check serves a CLI (no testing.T); Run reports each
// check as a subtest.
//
// Run as root, the kit starts the plugin only inside a private mount
// namespace: /etc is a scratch copy whose policy's only root is the
// scratch directory and whose account files hold the managed account the
// checks give files to, and /home, /root, /tmp, /var/tmp, /var/log, the
// mail spools and the machine policy's roots are empty tmpfs; so a plugin
// that ignores the policy still cannot reach the machine. Run as another user, the plugin
// has no privilege to harm the machine and runs without a sandbox, under
// the machine's own policy; the report says which.
package plugintest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
)

// Options tunes a conformance run.
type Options struct {
	// ScratchDir holds what the volumes, acl and sshkeys checks create; a
	// temporary directory (removed afterwards) when empty.
	ScratchDir string
	// Destructive allows checks that change the machine outside
	// ScratchDir: creating and deleting a throwaway account "ptest-…".
	Destructive bool
	// Timeout bounds each step (start, one call, an exit); default 10s.
	Timeout time.Duration
	// Env is added to the plugin's environment.
	Env []string
	// Keep are paths outside ScratchDir the plugin must still see in its
	// sandbox (under /tmp, say): a test's private tmux or D-Bus socket
	// directory the plugin is pointed at through Env.
	Keep []string
	// Logger receives go-plugin's client log; silent when nil.
	Logger hclog.Logger
}

// Status is a check's outcome.
type Status string

// The outcomes of a check.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Result is one named check's outcome.
type Result struct {
	Name     string        `json:"name"`
	Status   Status        `json:"status"`
	Reason   string        `json:"reason,omitempty"`
	Duration time.Duration `json:"-"`
}

// MarshalJSON writes the result with its duration as took_ms, as the
// CLI's other reports do.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	return json.Marshal(struct {
		plain
		TookMS float64 `json:"took_ms"`
	}{plain(r), float64(r.Duration.Microseconds()) / 1000})
}

// Report is the outcome of a conformance run.
type Report struct {
	Binary  string        `json:"binary"`
	Info    identity.Info `json:"info"`
	Results []Result      `json:"results"`
}

// Passed reports whether no check failed.
func (r *Report) Passed() bool {
	for _, res := range r.Results {
		if res.Status == Fail {
			return false
		}
	}
	return true
}

// Failed lists the failed checks.
func (r *Report) Failed() []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Status == Fail {
			out = append(out, res)
		}
	}
	return out
}

// Result returns the check named name.
func (r *Report) Result(name string) (Result, bool) {
	for _, res := range r.Results {
		if res.Name == name {
			return res, true
		}
	}
	return Result{}, false
}

// String renders the report as a table, one check a line.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "plugin %s (%s %s)\n", r.Binary, r.Info.Name, r.Info.Version)
	for _, res := range r.Results {
		fmt.Fprintf(&b, "  %-4s  %-32s %6s", strings.ToUpper(string(res.Status)), res.Name,
			res.Duration.Round(time.Millisecond))
		if res.Reason != "" {
			fmt.Fprintf(&b, "  %s", res.Reason)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	return o
}

// Check runs every check against the plugin binary. The error is for a run
// that could not begin (no such binary, no scratch directory); each
// check's failure is in the report.
func Check(ctx context.Context, binary string, opts Options) (*Report, error) {
	opts = opts.withDefaults()
	if st, err := os.Stat(binary); err != nil {
		return nil, err
	} else if st.IsDir() || st.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("%s is not an executable file", binary)
	}
	if opts.ScratchDir == "" {
		dir, err := os.MkdirTemp("", "plugintest-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		opts.ScratchDir = dir
	}
	scratch, err := filepath.Abs(opts.ScratchDir)
	if err != nil {
		return nil, err
	}
	opts.ScratchDir = scratch
	rep := &Report{Binary: binary}
	k := &kit{opts: opts, binary: binary, report: rep, owner: self()}
	if os.Geteuid() == 0 {
		if k.sandbox, err = newSandbox(scratch, opts.Keep); err != nil {
			return nil, err
		}
		defer k.sandbox.close()
		k.owner = k.sandbox.owner
	}
	k.run(ctx)
	return rep, nil
}

// Run runs Check and reports each check as a subtest of t: a failed check
// fails its subtest with the reason, a skipped one skips it.
func Run(t *testing.T, binary string, opts Options) *Report {
	t.Helper()
	if opts.ScratchDir == "" {
		opts.ScratchDir = t.TempDir()
	}
	rep, err := Check(context.Background(), binary, opts)
	if err != nil {
		t.Fatalf("plugintest: %v", err)
	}
	for _, res := range rep.Results {
		t.Run(res.Name, func(t *testing.T) {
			switch res.Status {
			case Fail:
				t.Error(res.Reason)
			case Skip:
				t.Skip(res.Reason)
			default:
				if res.Reason != "" {
					t.Log(res.Reason)
				}
			}
		})
	}
	return rep
}

// self is the account running the kit, the owner outside a sandbox.
func self() owner {
	o := owner{uid: uint32(os.Getuid()), gid: uint32(os.Getgid())}
	if u, err := user.LookupId(strconv.Itoa(os.Getuid())); err == nil {
		o.name = u.Username
	}
	return o
}
