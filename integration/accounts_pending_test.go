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

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// acctPendingFile is where the accounts plugins keep the accounts they are
// making in more than one write (etcdb.PendingFile, which this package
// cannot import).
const acctPendingFile = "/etc/hero_codescalers/pending-accounts"

// acctPendingFence: the pending record lets a delete through only for the
// exact name and uid the plugin wrote there itself, in a file only root
// could have written. A batch naming an unmanaged account does not put it
// on the record; a record naming it with another uid, with a system uid,
// or root, or one others could have written (owned by another user, or
// writable by group or others) lets nothing through. Each refusal leaves
// the account files as they were.
func acctPendingFence(t *testing.T, a accounts.Accounts) {
	ctx := context.Background()
	t.Cleanup(func() { os.Remove(acctPendingFile) })
	other := acctUID(t, "hcacctother")
	t.Run("a batch naming an unmanaged account, then its delete", func(t *testing.T) {
		before := acctSnapshot(t)
		res, err := a.CreateUsers(ctx, []accounts.UserSpec{{Name: "hcacctother", Home: "/home/hcacctother"}})
		if err == nil && res[0].Err == nil {
			t.Errorf("the batch took an unmanaged account: %+v", res[0])
		}
		if data, _ := os.ReadFile(acctPendingFile); strings.Contains(string(data), "hcacctother") {
			t.Errorf("the batch put an unmanaged account on the pending record: %q", data)
		}
		err = a.DeleteUser(ctx, "hcacctother", accounts.DeleteOptions{})
		wantRefused(t, err, sdkerr.PermissionDenied)
		acctSameFiles(t, before)
	})
	cases := []struct {
		name, line string
		uid, mode  uint32
		code       sdkerr.Code
		victim     string
	}{
		{"recorded with another uid", fmt.Sprintf("hcacctother\t%d\t\n", other+1), 0, 0o600, sdkerr.PermissionDenied, "hcacctother"},
		{"a system uid recorded", fmt.Sprintf("hcacctsys\t%d\t\n", acctUID(t, "hcacctsys")), 0, 0o600, sdkerr.PermissionDenied, "hcacctsys"},
		{"root recorded", "root\t0\t\n", 0, 0o600, sdkerr.PermissionDenied, "root"},
		{"a record others may write", fmt.Sprintf("hcacctother\t%d\t\n", other), 0, 0o666, sdkerr.FailedPrecondition, "hcacctother"},
		{"a record of another user", fmt.Sprintf("hcacctother\t%d\t\n", other), 65534, 0o600, sdkerr.FailedPrecondition, "hcacctother"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := acctSnapshot(t)
			plantPending(t, c.line, c.uid, c.mode)
			err := a.DeleteUser(ctx, c.victim, accounts.DeleteOptions{})
			wantRefused(t, err, c.code)
			acctSameFiles(t, before)
		})
	}
}

// plantPending writes the pending record as someone other than the
// plugin would have: its content, owner and mode as given.
func plantPending(t *testing.T, content string, uid, mode uint32) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(acctPendingFile), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Remove(acctPendingFile)
	if err := os.WriteFile(acctPendingFile, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(acctPendingFile, int(uid), 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(acctPendingFile, os.FileMode(mode)); err != nil {
		t.Fatal(err)
	}
}

func wantRefused(t *testing.T, err error, code sdkerr.Code) {
	t.Helper()
	if !sdkerr.Is(err, code) {
		t.Errorf("%v, want %s", err, code)
	}
}

// acctUID is a user's uid as id says.
func acctUID(t testing.TB, name string) uint32 {
	t.Helper()
	out, err := exec.Command("id", "-u", "--", name).Output()
	if err != nil {
		t.Fatalf("id -u %s: %v", name, err)
	}
	var uid uint32
	if _, err := fmt.Sscan(string(out), &uid); err != nil {
		t.Fatal(err)
	}
	return uid
}
