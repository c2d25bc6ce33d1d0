package shadow

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/plugins/internal/osutil"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Shadow serves the accounts concern through the shadow-utils tools.
type Shadow struct {
	// Fence is the policy every change is judged by, read at start; tests
	// set their own.
	Fence etcdb.Fence
	// Etc is where the account files and login.defs are read; the tools
	// always work on /etc, so only tests change it.
	Etc string
	// Run executes the tools; tests swap in a fake.
	Run osutil.Runner
	// Attempts and Backoff bound the retries of a tool that found the
	// account files locked ("cannot lock /etc/passwd; try again later").
	Attempts int
	Backoff  time.Duration

	// mu serializes this plugin's changes: two of its own calls never
	// race between reading a group's members and rewriting them.
	mu sync.Mutex
}

var _ accounts.Accounts = (*Shadow)(nil)

// New returns the plugin as the host runs it.
func New() *Shadow {
	return &Shadow{Fence: etcdb.LoadFence(), Etc: "/etc", Run: osutil.Exec{RunToEnd: true}, Attempts: 6, Backoff: 100 * time.Millisecond}
}

// tools are what the plugin runs; Probe checks each is installed.
var tools = []string{"useradd", "usermod", "userdel", "groupadd", "groupdel", "gpasswd", "newusers", "chpasswd"}

// toolDirs is where the tools are looked for: the PATH osutil.Exec uses.
var toolDirs = []string{"/usr/sbin", "/usr/bin", "/sbin", "/bin"}

// Probe is ready when the policy is usable and shadow-utils is installed.
func (s *Shadow) Probe(context.Context) identity.ProbeResult {
	if err := s.Fence.Usable(); err != nil {
		return identity.ProbeResult{Reason: err.Error()}
	}
	var missing []string
	for _, tool := range tools {
		if !installed(tool) {
			missing = append(missing, tool)
		}
	}
	switch {
	case len(missing) == 0:
		return identity.ProbeResult{Ready: true}
	case missing[0] == "useradd":
		return identity.ProbeResult{Reason: "useradd is not installed (no shadow-utils): use the files accounts plugin"}
	}
	return identity.ProbeResult{Reason: "shadow-utils tools missing: " + strings.Join(missing, ", ")}
}

func installed(tool string) bool {
	for _, dir := range toolDirs {
		if fi, err := os.Stat(filepath.Join(dir, tool)); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return true
		}
	}
	return false
}

// load reads the account files and settings afresh; the id ranges are
// the policy's.
func (s *Shadow) load() (*etcdb.DB, etcdb.Defs, error) {
	if err := s.Fence.Usable(); err != nil {
		return nil, etcdb.Defs{}, err
	}
	db, err := etcdb.Load(s.Etc)
	return db, s.Fence.Defs(s.Etc), err
}

// judged reads the account files and builds the policy's view of them.
func (s *Shadow) judged() (*etcdb.Judge, etcdb.Defs, error) {
	db, d, err := s.load()
	if err != nil {
		return nil, d, err
	}
	j, err := s.Fence.Judge(db)
	return j, d, err
}

// run executes argv, retrying with exponential backoff while the account
// files are locked by another process, then failing Unavailable. Exit
// codes are mapped to sdk codes by codes (see argv.go).
func (s *Shadow) run(ctx context.Context, argv []string, stdin []byte) ([]byte, error) {
	delay := s.Backoff
	for attempt := 1; ; attempt++ {
		out, err := s.Run.Run(ctx, argv, stdin)
		if err == nil {
			return out, nil
		}
		if !lockBusy(err) {
			return out, mapExit(argv[0], err)
		}
		if attempt >= s.Attempts {
			return out, withCode(err, sdkerr.Unavailable)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return out, withCode(err, sdkerr.Unavailable)
		case <-t.C:
		}
		delay *= 2
	}
}

// lock serializes changes: among this plugin's goroutines (mu), and among
// all hero accounts plugins on the machine (etcdb.Serialize), since
// useradd itself lets two concurrent creates of one name both "succeed".
func (s *Shadow) lock(ctx context.Context) (func(), error) {
	s.mu.Lock()
	unlock, err := etcdb.Serialize(ctx, s.Etc)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	// A tool an earlier instance of this plugin started may still be
	// writing (the host crashed): let it finish first.
	if err := etcdb.WaitTools(ctx, s.Etc); err != nil {
		unlock()
		s.mu.Unlock()
		return nil, err
	}
	return func() { unlock(); s.mu.Unlock() }, nil
}
