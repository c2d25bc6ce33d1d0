//go:build integration

package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// acctFence calls the real plugin as an attacker who can start it would
// (the driver may: sudo lets it), saying whatever suits: no marker group, a
// victim's own group as the marker. The plugin judges by its own policy:
// root, a system account, an account made with useradd outside the marker
// group and one in it with a system uid are never deleted, locked or
// regrouped; a managed user never joins a docker-like group, sudo or
// another user's own group; no group gets an unmanaged group's gid; no
// user gets a home outside the home roots. Each refusal is PermissionDenied
// and leaves the account files and the managed-groups record byte for
// byte as they were.
func acctFence(t *testing.T, a accounts.Accounts) {
	ctx := context.Background()
	mustRun(t, "useradd", "-M", "-p", "*", "--", "hcacctother")
	t.Cleanup(func() { mustRun(t, "userdel", "--", "hcacctother") })
	mustRun(t, "useradd", "-r", "-M", "-p", "*", "-G", acctMarker, "--", "hcacctsys")
	t.Cleanup(func() { mustRun(t, "userdel", "--", "hcacctsys") })
	for _, g := range []string{"hcacctdocker", acctAllowed} {
		mustRun(t, "groupadd", "--", g)
		t.Cleanup(func() { mustRun(t, "groupdel", "--", g) })
	}
	if _, err := a.CreateUser(ctx, accounts.UserSpec{Name: "hcacctm", Home: "/home/hcacctm"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { acctDelete(t, a, accounts.DeleteOptions{}, "hcacctm") })
	dockerGID := acctGID(t, "hcacctdocker")

	for _, c := range acctFenceCases(a, dockerGID) {
		t.Run(c.name, func(t *testing.T) {
			before, record := acctSnapshot(t), acctRecord(t)
			if err := c.call(ctx); !sdkerr.Is(err, sdkerr.PermissionDenied) {
				t.Errorf("%v, want permission_denied", err)
			}
			acctSameFiles(t, before)
			if acctRecord(t) != record {
				t.Error("the managed-groups record changed")
			}
		})
	}
	t.Run("pending", func(t *testing.T) { acctPendingFence(t, a) })
	// What the policy allows still works: a group it names.
	if u, err := a.SetUserGroups(ctx, "hcacctm", []string{acctAllowed}, ""); err != nil || !slices.Contains(u.Groups, acctAllowed) {
		t.Errorf("into %s, which the policy names: %+v %v", acctAllowed, u, err)
	}
}

type acctFenceCase struct {
	name string
	call func(context.Context) error
}

func acctFenceCases(a accounts.Accounts, dockerGID uint32) []acctFenceCase {
	del := func(name, marker string) func(context.Context) error {
		return func(ctx context.Context) error {
			return a.DeleteUser(ctx, name, accounts.DeleteOptions{MarkerGroup: marker})
		}
	}
	regroup := func(name string, groups ...string) func(context.Context) error {
		return func(ctx context.Context) error { _, err := a.SetUserGroups(ctx, name, groups, ""); return err }
	}
	create := func(edit func(*accounts.UserSpec)) func(context.Context) error {
		return func(ctx context.Context) error {
			s := accounts.UserSpec{Name: "hcacctn", Home: "/home/hcacctn"}
			edit(&s)
			_, err := a.CreateUser(ctx, s)
			return err
		}
	}
	members := func(group string, m ...string) func(context.Context) error {
		return func(ctx context.Context) error { _, err := a.SetGroupMembers(ctx, group, m); return err }
	}
	cases := []acctFenceCase{
		{"delete root", del("root", "")},
		{"delete root, its own group as marker", del("root", "root")},
		{"delete a system account", del("daemon", "")},
		{"delete a marker member with a system uid", del("hcacctsys", acctMarker)},
		{"delete an unmanaged account", del("hcacctother", "")},
		{"delete an unmanaged account, its own group as marker", del("hcacctother", "hcacctother")},
		{"lock root", func(ctx context.Context) error { return a.LockUser(ctx, "root", "") }},
		{"lock a system account", func(ctx context.Context) error { return a.LockUser(ctx, "daemon", "daemon") }},
		{"lock an unmanaged account", func(ctx context.Context) error { return a.LockUser(ctx, "hcacctother", "") }},
		{"unlock an unmanaged account", func(ctx context.Context) error { return a.UnlockUser(ctx, "hcacctother", "hcacctother") }},
		{"regroup root", regroup("root")},
		{"regroup a system account", regroup("daemon")},
		{"regroup an unmanaged account", regroup("hcacctother")},
		{"a managed user into a docker-like group", regroup("hcacctm", "hcacctdocker")},
		{"a managed user into sudo", regroup("hcacctm", "sudo")},
		{"a managed user into another user's group", regroup("hcacctm", "hcacctother")},
		{"a new user in a docker-like group", create(func(s *accounts.UserSpec) { s.Groups = []string{"hcacctdocker"} })},
		{"a new user in another user's group", create(func(s *accounts.UserSpec) { s.Groups = []string{"hcacctother"} })},
		{"a new user with root's group as primary", create(func(s *accounts.UserSpec) { s.PrimaryGroup = "root" })},
		{"a new user with a system uid", create(func(s *accounts.UserSpec) { s.UID = 1 })},
		{"a new user with its home in /etc", create(func(s *accounts.UserSpec) { s.Home = "/etc/hcacctn" })},
		{"a new user with another marker group", create(func(s *accounts.UserSpec) { s.MarkerGroup = "sudo" })},
		{"a repeated create adding a docker-like group", func(ctx context.Context) error {
			_, err := a.CreateUser(ctx, accounts.UserSpec{Name: "hcacctm", Home: "/home/hcacctm", Groups: []string{"hcacctdocker"}})
			return err
		}},
		{"a batch user in a docker-like group", func(ctx context.Context) error {
			res, err := a.CreateUsers(ctx, []accounts.UserSpec{{Name: "hcacctn", Home: "/home/hcacctn", Groups: []string{"hcacctdocker"}}})
			if err == nil {
				err = res[0].Err
			}
			return err
		}},
		{"members of a docker-like group", members("hcacctdocker", "hcacctm")},
		{"members of the marker group", members(acctMarker, "hcacctm", "hcacctother")},
		{"an unmanaged account into a managed group", members("hcacctdev", "hcacctother")},
		{"delete a docker-like group", func(ctx context.Context) error { return a.DeleteGroup(ctx, "hcacctdocker") }},
		{"delete another user's group", func(ctx context.Context) error { return a.DeleteGroup(ctx, "hcacctother") }},
		{"adopt a docker-like group", func(ctx context.Context) error { _, err := a.CreateGroup(ctx, "hcacctdocker", 0); return err }},
		{"a gid that duplicates an unmanaged group's", func(ctx context.Context) error {
			_, err := a.CreateGroup(ctx, "hcacctdup", dockerGID)
			return err
		}},
		{"a system gid", func(ctx context.Context) error { _, err := a.CreateGroup(ctx, "hcacctdup", 27); return err }},
	}
	return cases
}

// acctRecord is the managed-groups record's content ("" when missing).
func acctRecord(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("/etc", policy.ManagedGroupsFile))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(data)
}

// acctGID is a group's gid as getent says.
func acctGID(t testing.TB, group string) uint32 {
	t.Helper()
	out, err := exec.Command("getent", "group", group).Output()
	if err != nil {
		t.Fatalf("getent group %s: %v", group, err)
	}
	gid, err := strconv.ParseUint(strings.Split(string(out), ":")[2], 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	return uint32(gid)
}

// TestAccountsRefuseAnUnusablePolicy: a policy file others could have
// written (mode 0666) makes each accounts plugin refuse to serve: its
// Probe says why, every call fails failed_precondition naming the policy,
// and the account files stay as they were.
func TestAccountsRefuseAnUnusablePolicy(t *testing.T) {
	sandbox.Require(t)
	acctPolicy(t)
	if err := os.Chmod(policy.Path, 0o666); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"shadow", "files"} {
		t.Run(name, func(t *testing.T) {
			client := startPlugin(t, buildPlugin(t, name))
			probe, err := dispense[identity.Identity](t, client, sdk.ConcernIdentity).Probe(context.Background())
			if err != nil || probe.Ready || !strings.Contains(probe.Reason, "writable by group or others") {
				t.Errorf("probe: %+v %v", probe, err)
			}
			a := dispense[accounts.Accounts](t, client, sdk.ConcernAccounts)
			before := acctSnapshot(t)
			_, err1 := a.CreateGroup(context.Background(), "hcacctx", 0)
			err2 := a.DeleteUser(context.Background(), "hcacctx", accounts.DeleteOptions{})
			_, err3 := a.GetUser(context.Background(), "root")
			for i, err := range []error{err1, err2, err3} {
				if !sdkerr.Is(err, sdkerr.FailedPrecondition) || !strings.Contains(err.Error(), policy.Path) {
					t.Errorf("call %d: %v", i, err)
				}
			}
			acctSameFiles(t, before)
		})
	}
}
