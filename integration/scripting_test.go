//go:build integration

package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// TestDryRunChangesNothing: --dry-run of user-create, user-create --from,
// user-delete and user-quota on the real host and plugins prints each
// step plan and leaves passwd, shadow, group, gshadow, the subvolume and
// qgroup lists byte for byte as they were, and the state too; a plan the
// call would refuse exits as the call would.
func TestDryRunChangesNothing(t *testing.T) {
	h, start := startNode(t)
	_, pub := clientKey(t)
	h.mustCLI("user-create", "dryb", "--quota", "1G", "--ssh-key-file", pub)
	before := machineState(t)
	stateBefore := h.mustCLI("--json", "user-list")

	out := h.mustCLI("user-create", "drya", "--quota", "2G", "--ssh-key-file", pub, "--dry-run")
	for _, want := range []string{"dry run: user.create drya would", "1. account: create account drya", "volume: create the home volume /home/drya", "quota 2147483648 bytes", "keys: install 1 key(s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("create plan lacks %q:\n%s", want, out)
		}
	}
	csv := filepath.Join(t.TempDir(), "users.csv")
	os.WriteFile(csv, []byte("name,quota\ndryc,1G\ndryb,1G\n"), 0o644)
	out, errs, code := h.cli("--json", "user-create", "--from", csv, "--dry-run")
	var plan api.PlanResult
	if code != 8 || json.Unmarshal([]byte(out), &plan) != nil || len(plan.Items) != 2 || plan.Items[0].Error != nil || plan.Items[1].Error == nil {
		t.Errorf("batch plan: exit %d, want 8 (dryb exists)\n%s%s", code, out, errs)
	}
	if out := h.mustCLI("user-delete", "dryb", "--dry-run"); !strings.Contains(out, "volume: delete the home volume /home/dryb") {
		t.Errorf("delete plan:\n%s", out)
	}
	if out := h.mustCLI("user-delete", "dryb", "--keep-home", "--dry-run"); !strings.Contains(out, "read-only snapshot") {
		t.Errorf("delete --keep-home plan:\n%s", out)
	}
	if out := h.mustCLI("user-quota", "dryb", "5G", "--dry-run"); !strings.Contains(out, "from 1073741824 bytes to 5368709120 bytes") {
		t.Errorf("quota plan:\n%s", out)
	}
	// Refusals exit as the real calls would: exists 5, not found 4, bad size 2.
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"user-create", "dryb", "--dry-run"}, 5},
		{[]string{"user-delete", "nobody-here", "--dry-run"}, 4},
		{[]string{"user-quota", "dryb", "lots", "--dry-run"}, 2},
		{[]string{"user-delete", "root", "--dry-run"}, 2},
	} {
		if _, errs, code := h.cli(c.args...); code != c.code {
			t.Errorf("%v: exit %d, want %d: %s", c.args, code, c.code, errs)
		}
	}
	after := machineState(t)
	for k, b := range before {
		if after[k] != b {
			t.Errorf("--dry-run changed %s:\n--- before\n%s\n--- after\n%s", k, b, after[k])
		}
	}
	if got := h.mustCLI("--json", "user-list"); got != stateBefore {
		t.Errorf("--dry-run changed the state:\n%s\n%s", stateBefore, got)
	}
	h.mustCLI("user-delete", "dryb")
	sameMachine(t, start, machineState(t))
}

// TestIfMissingConverges: user-create --if-missing creates a missing
// user; run again it changes nothing and says so (exit 0, changed empty);
// with a new quota and key it changes just those; a different uid is a
// conflict (exit 7).
func TestIfMissingConverges(t *testing.T) {
	h, start := startNode(t)
	_, pub := clientKey(t)
	ensure := func(args ...string) ensureResult {
		t.Helper()
		out := h.mustCLI(append([]string{"--json", "user-create", "ifm", "--if-missing"}, args...)...)
		var r ensureResult
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return r
	}
	if r := ensure("--quota", "1G"); !r.Created {
		t.Fatalf("first run: %+v", r)
	}
	afterFirst := machineState(t)
	if r := ensure("--quota", "1G"); r.Created || len(r.Changed) != 0 {
		t.Fatalf("second run changed something: %+v", r)
	}
	if out := h.mustCLI("user-create", "ifm", "--if-missing", "--quota", "1G"); !strings.Contains(out, "user ifm exists and matches; nothing changed") {
		t.Errorf("second run says: %s", out)
	}
	sameMachine(t, afterFirst, machineState(t))
	r := ensure("--quota", "2G", "--ssh-key-file", pub)
	if r.Created || strings.Join(r.Changed, "; ") != "quota 1G -> 2G; added 1 ssh key" || r.User.QuotaBytes != 2<<30 || len(r.User.SSHKeys) != 1 {
		t.Fatalf("converge: %+v", r)
	}
	if _, errs, code := h.cli("user-create", "ifm", "--if-missing", "--uid", "59999"); code != 7 || !strings.Contains(errs, "cannot change") {
		t.Fatalf("a different uid: exit %d, want 7: %s", code, errs)
	}
	h.mustCLI("user-delete", "ifm")
	sameMachine(t, start, machineState(t))
}

type ensureResult struct {
	Created bool     `json:"created"`
	Changed []string `json:"changed"`
	User    struct {
		QuotaBytes int64    `json:"quota_bytes"`
		SSHKeys    []string `json:"ssh_keys"`
	} `json:"user"`
}
