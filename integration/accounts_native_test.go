//go:build integration

package integration

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
)

// TestAccountsNativeLikeUseradd proves the files plugin, the default
// accounts plugin, makes what useradd makes: the same users created by the
// shadow plugin (the real useradd) and then, on the same files, by the
// files plugin leave passwd, shadow, group, gshadow, subuid and subgid
// byte for byte the same — subordinate ranges included, found in a hole
// of an unsorted /etc/subuid as useradd's find_free_range finds them and
// with the file sorted as useradd sorts it — pwck and grpck stay clean,
// and each plugin's deletes give the files back exactly as they were.
func TestAccountsNativeLikeUseradd(t *testing.T) {
	sandbox.Require(t)
	acctHighIDs(t)
	acctPolicy(t)
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		keepFile(t, f)
		// a hole of one range at 165536, and the file out of order
		if err := os.WriteFile(f, []byte("hcnatlater:231072:65536\nhcnatfirst:100000:65536\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	shadow := dispense[accounts.Accounts](t, startPlugin(t, buildPlugin(t, "shadow")), sdk.ConcernAccounts)
	files := dispense[accounts.Accounts](t, startPlugin(t, buildPlugin(t, "files")), sdk.ConcernAccounts)
	if _, err := files.CreateGroup(ctx, acctMarker, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Command("groupdel", "--", acctMarker).Run() })
	names := []string{"hcnat1", "hcnat2", "hcnat3"}
	etc := append(acctFiles, "subuid", "subgid")
	base, before := acctBaseline(t), acctRead(t, etc)

	made := map[string]map[string]string{}
	for _, p := range []struct {
		name string
		a    accounts.Accounts
	}{{"shadow", shadow}, {"files", files}} {
		for _, n := range names {
			if _, err := p.a.CreateUser(ctx, accounts.UserSpec{Name: n, Home: "/home/" + n, CreateHome: true, Shell: "/bin/sh", MarkerGroup: acctMarker}); err != nil {
				t.Fatalf("%s: create %s: %v", p.name, n, err)
			}
		}
		made[p.name] = acctRead(t, etc)
		base.clean(t)
		acctDelete(t, p.a, accounts.DeleteOptions{RemoveHome: true}, names...)
		base.clean(t)
		after := acctRead(t, etc)
		for _, f := range etc {
			want := before[f]
			if f == "subuid" || f == "subgid" { // useradd sorted it; userdel keeps the order
				want = "hcnatfirst:100000:65536\nhcnatlater:231072:65536\n"
			}
			if after[f] != want {
				t.Errorf("%s: /etc/%s after the deletes:\n%s\nwant:\n%s", p.name, f, after[f], want)
			}
		}
		for _, f := range []string{"subuid", "subgid"} { // start both from the unsorted file
			if err := os.WriteFile("/etc/"+f, []byte(before[f]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, f := range etc {
		if made["files"][f] != made["shadow"][f] {
			t.Errorf("/etc/%s differs:\nuseradd made:\n%s\nthe files plugin made:\n%s", f, made["shadow"][f], made["files"][f])
		}
	}
	if !strings.Contains(made["files"]["subuid"], "hcnat1:165536:65536\n") {
		t.Errorf("hcnat1's subordinate uids are not in the hole at 165536:\n%s", made["files"]["subuid"])
	}
}
