//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
)

// TestUserGroupsOnlyManaged: user-create --groups on the real host and
// plugins takes a group group-create made and a group the policy names;
// a docker-like group, another user's own group and a missing group are
// -32602 with data.field groups and the group in the message, single and
// from a CSV, before any tool runs: the machine is as it was.
func TestUserGroupsOnlyManaged(t *testing.T) {
	sandbox.Require(t)
	p := policy.Defaults("/etc")
	p.Groups = []string{"hcjoinok"}
	keepFile(t, policy.Path)
	keepFile(t, filepath.Join("/etc", policy.ManagedGroupsFile))
	if err := os.MkdirAll(filepath.Dir(policy.Path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(policy.Path, p.Render(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"hcjoinok", "hcjoindocker"} {
		mustRun(t, "groupadd", "--", g)
		t.Cleanup(func() { mustRun(t, "groupdel", "--", g) })
	}
	h, _ := startNode(t)
	h.mustCLI("group-create", "hcjoindevs")
	// a uid no process of the machine (whose pids the sandbox shares) has
	h.mustCLI("user-create", "hcjoin1", "--uid", "59001", "--groups", "hcjoindevs,hcjoinok")
	t.Cleanup(func() {
		h.mustCLI("user-delete", "hcjoin1")
		h.mustCLI("group-delete", "hcjoindevs")
	})

	before := machineState(t)
	for _, g := range []string{"hcjoindocker", "hcjoin1", "nosuchgroup"} {
		e := h.call(api.MUserCreate, api.UserCreateParams{Name: "hcjoin2", Groups: []string{"hcjoindevs", g}}, nil)
		if e == nil || e.Code != -32602 || e.Data == nil || e.Data.Field != "groups" || !strings.Contains(e.Message, g+" is not a group") {
			t.Errorf("--groups %s: %+v, want -32602 on groups naming it", g, e)
		}
	}
	csv := filepath.Join(t.TempDir(), "users.csv")
	os.WriteFile(csv, []byte("name,groups\nhcjoin3,hcjoindocker\n"), 0o600)
	out, errs, code := h.cli("user-create", "--from", csv)
	if code != 8 || !lineWith(out, "hcjoin3", "hcjoindocker") { // partial: the batch's one user failed
		t.Errorf("a CSV row with a docker-like group: exit %d\n%s%s", code, out, errs)
	}
	sameMachine(t, before, machineState(t))
}
