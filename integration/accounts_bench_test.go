//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
)

// acctBenchRow is one measured way of creating n users.
type acctBenchRow struct {
	path string
	n    int
	took time.Duration
}

// TestBenchAccounts is the accounts part of `make bench`: n users created
// by one useradd per user (the shadow plugin's CreateUser), by the shadow
// plugin's batch (newusers + chpasswd + one gpasswd per group), by the
// files plugin's batch (one locked rewrite) and, for reference, by the
// files plugin one user at a time, for n = 100 and 1000, each on the same
// starting /etc. It prints the time per user, the speed-up over single
// useradd calls at the same n, and how the cost grows from 100 to 1000
// (10× is linear). Run it as root:
//
//	HC_BENCH=1 go test -count=1 -tags integration -run TestBenchAccounts -v -timeout 30m ./integration/
func TestBenchAccounts(t *testing.T) {
	if os.Getenv("HC_BENCH") == "" {
		t.Skip("a benchmark: set HC_BENCH=1 (make bench does)")
	}
	sandbox.Require(t)
	acctHighIDs(t)
	acctPolicy(t)
	sh := dispense[accounts.Accounts](t, startPlugin(t, buildPlugin(t, "shadow")), sdk.ConcernAccounts)
	fl := dispense[accounts.Accounts](t, startPlugin(t, buildPlugin(t, "files")), sdk.ConcernAccounts)
	ctx := context.Background()
	if _, err := sh.CreateGroup(ctx, acctMarker, 0); err != nil {
		t.Fatal(err)
	}
	files := append(acctFiles, "subuid", "subgid")
	start := acctRead(t, files)
	restore := func() {
		for n, content := range start {
			if err := os.WriteFile(filepath.Join("/etc", n), []byte(content), 0o644); err != nil && content != "" {
				t.Fatal(err)
			}
		}
	}
	// the files' modes are kept by WriteFile on existing files
	defer func() { restore(); exec.Command("groupdel", "--", acctMarker).Run() }()

	paths := []struct {
		name string
		run  func([]accounts.UserSpec) error
	}{
		{"single useradd (shadow CreateUser)", acctSingle(sh)},
		{"shadow batch (newusers)", acctBatchRun(sh)},
		{"files batch (one rewrite)", acctBatchRun(fl)},
		{"files CreateUser, one at a time", acctSingle(fl)},
	}
	var rows []acctBenchRow
	for _, n := range []int{100, 1000} {
		specs := acctBenchSpecs(n)
		for _, p := range paths {
			restore()
			began := time.Now()
			if err := p.run(specs); err != nil {
				t.Fatalf("%s ×%d: %v", p.name, n, err)
			}
			rows = append(rows, acctBenchRow{p.name, n, time.Since(began)})
			if got := strings.Count(acctRead(t, []string{"passwd"})["passwd"], ":/home/hcbench"); got != n {
				t.Fatalf("%s ×%d made %d users", p.name, n, got)
			}
		}
	}
	fmt.Print(acctBenchTable(rows)) // stdout, so `make bench` shows it without -v
}

func acctBenchSpecs(n int) []accounts.UserSpec {
	specs := make([]accounts.UserSpec, n)
	for i := range specs {
		name := fmt.Sprintf("hcbench%04d", i)
		specs[i] = accounts.UserSpec{Name: name, Home: "/home/" + name, Shell: "/bin/sh", MarkerGroup: acctMarker}
	}
	return specs
}

func acctSingle(a accounts.Accounts) func([]accounts.UserSpec) error {
	return func(specs []accounts.UserSpec) error {
		for _, s := range specs {
			if _, err := a.CreateUser(context.Background(), s); err != nil {
				return err
			}
		}
		return nil
	}
}

func acctBatchRun(a accounts.Accounts) func([]accounts.UserSpec) error {
	return func(specs []accounts.UserSpec) error {
		res, err := a.CreateUsers(context.Background(), specs)
		if err != nil {
			return err
		}
		for _, r := range res {
			if r.Err != nil {
				return r.Err
			}
		}
		return nil
	}
}

// acctBenchTable renders the rows with per-user cost, speed-up over the
// single-useradd row of the same n, and growth from the smallest n.
func acctBenchTable(rows []acctBenchRow) string {
	single := map[int]time.Duration{}
	first := map[string]acctBenchRow{}
	for _, r := range rows {
		if strings.HasPrefix(r.path, "single useradd") {
			single[r.n] = r.took
		}
		if _, ok := first[r.path]; !ok {
			first[r.path] = r
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "accounts: creating N users (sandboxed /etc, %s)\n", time.Now().Format("2006-01-02"))
	fmt.Fprintf(&b, "%-36s %5s %10s %10s %14s %16s\n", "path", "N", "total", "per user", "vs single", "growth from 100")
	for _, r := range rows {
		f := first[r.path]
		growth := "(base)"
		if r.n != f.n {
			growth = fmt.Sprintf("×%.1f for ×%d", float64(r.took)/float64(f.took), r.n/f.n)
		}
		fmt.Fprintf(&b, "%-36s %5d %10s %10s %13.1f× %16s\n", r.path, r.n, r.took.Round(time.Millisecond),
			(r.took / time.Duration(r.n)).Round(time.Microsecond), float64(single[r.n])/float64(r.took), growth)
	}
	return b.String()
}
