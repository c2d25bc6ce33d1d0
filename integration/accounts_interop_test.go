//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
)

// acctInteropRounds is how many creates each worker makes.
const acctInteropRounds = 50

// TestAccountsInterop proves the files plugin and shadow-utils can share
// /etc: two workers run the real useradd and userdel, two others call two
// files plugin processes, all at once. Each worker creates 50 users and
// deletes every other one as it goes. Afterwards every expected account is
// present, every deleted one is gone, uids are unique, pwck and grpck are
// clean, and no lock file is left. The plugin then deletes the rest, the
// tools' users included, and passwd, shadow, group, gshadow, subuid and
// subgid are back to their content before the test.
func TestAccountsInterop(t *testing.T) {
	sandbox.Require(t)
	acctHighIDs(t)
	acctPolicy(t)
	bin := buildPlugin(t, "files")
	plugins := []accounts.Accounts{
		dispense[accounts.Accounts](t, startPlugin(t, bin), sdk.ConcernAccounts),
		dispense[accounts.Accounts](t, startPlugin(t, bin), sdk.ConcernAccounts),
	}
	ctx := context.Background()
	if _, err := plugins[0].CreateGroup(ctx, acctMarker, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Command("groupdel", "--", acctMarker).Run() })
	files := append(acctFiles, "subuid", "subgid")
	base, before := acctBaseline(t), acctRead(t, files)

	var wg sync.WaitGroup
	var retries atomic.Int64
	errs := make(chan error, 4*acctInteropRounds)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			create, remove := acctToolWorker(&retries), acctToolRemove(&retries)
			if w >= 2 {
				create, remove = acctPluginWorker(plugins[w-2])
			}
			for i := 0; i < acctInteropRounds; i++ {
				if err := create(fmt.Sprintf("hci%d_%02d", w, i)); err != nil {
					errs <- err
				}
				if i%2 == 1 {
					if err := remove(fmt.Sprintf("hci%d_%02d", w, i-1)); err != nil {
						errs <- err
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("useradd/userdel retried %d times after \"cannot lock\"", retries.Load())
	remaining := acctInteropCheck(t, plugins[0])
	base.clean(t)
	acctNoLockFiles(t)

	for _, name := range remaining {
		// the plugin's users have homes beneath /home; the tools' /nonexistent
		acctDelete(t, plugins[1], accounts.DeleteOptions{RemoveHome: !strings.HasPrefix(name, "hci0") && !strings.HasPrefix(name, "hci1")}, name)
	}
	base.clean(t)
	after := acctRead(t, files)
	for _, n := range files {
		if after[n] != before[n] {
			t.Errorf("/etc/%s is not back to its content after the plugin deleted every user", n)
		}
	}
}

// acctInteropCheck checks the odd-numbered users of every worker exist in
// the marker group with unique uids and the even ones are gone; it
// returns the names that exist.
func acctInteropCheck(t *testing.T, a accounts.Accounts) []string {
	members, err := a.ListUsers(context.Background(), acctMarker)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]accounts.User{}
	uids := map[uint32]string{}
	for _, u := range members {
		have[u.Name] = u
		if other, dup := uids[u.UID]; dup {
			t.Errorf("uid %d is both %s and %s", u.UID, other, u.Name)
		}
		uids[u.UID] = u.Name
	}
	var names []string
	for w := 0; w < 4; w++ {
		for i := 0; i < acctInteropRounds; i++ {
			name := fmt.Sprintf("hci%d_%02d", w, i)
			_, ok := have[name]
			if want := i%2 == 1; ok != want {
				t.Errorf("%s: present=%v, want %v", name, ok, want)
			}
			if ok {
				names = append(names, name)
			}
		}
	}
	if len(have) != len(names) {
		t.Errorf("%d members of %s, %d expected", len(have), acctMarker, len(names))
	}
	return names
}

// acctToolWorker creates users with the real useradd, retrying (as the
// shadow plugin does) when it reports the files locked.
func acctToolWorker(retries *atomic.Int64) func(string) error {
	return func(name string) error {
		return acctRetry(retries, "useradd", "-M", "-p", "*", "-G", acctMarker, "-d", "/nonexistent", "-s", "/bin/sh", "--", name)
	}
}

func acctToolRemove(retries *atomic.Int64) func(string) error {
	return func(name string) error { return acctRetry(retries, "userdel", "--", name) }
}

func acctRetry(retries *atomic.Int64, args ...string) error {
	for attempt := 0; ; attempt++ {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err == nil {
			return nil
		}
		if !strings.Contains(string(out), "cannot lock") || attempt == 5 {
			return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, out)
		}
		retries.Add(1)
	}
}

func acctPluginWorker(a accounts.Accounts) (create, remove func(string) error) {
	ctx := context.Background()
	create = func(name string) error {
		// a home beneath the policy's root, made, so that pwck finds it
		_, err := a.CreateUser(ctx, accounts.UserSpec{Name: name, Home: "/home/" + name, CreateHome: true, Shell: "/bin/sh", MarkerGroup: acctMarker})
		return err
	}
	remove = func(name string) error {
		return a.DeleteUser(ctx, name, accounts.DeleteOptions{RemoveHome: true, MarkerGroup: acctMarker})
	}
	return create, remove
}

func acctRead(t *testing.T, names []string) map[string]string {
	out := map[string]string{}
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join("/etc", n))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		out[n] = string(data)
	}
	return out
}

// acctNoLockFiles checks no <file>.lock or <file>.<pid> is left in /etc.
func acctNoLockFiles(t *testing.T) {
	entries, err := os.ReadDir("/etc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		for _, f := range []string{"passwd", "shadow", "group", "gshadow", "subuid", "subgid"} {
			rest, ok := strings.CutPrefix(e.Name(), f+".")
			if ok && rest != "" && (rest == "lock" || strings.Trim(rest, "0123456789") == "") {
				t.Errorf("left in /etc: %s", e.Name())
			}
		}
		if strings.Contains(e.Name(), ".hc") {
			t.Errorf("temporary file left in /etc: %s", e.Name())
		}
	}
}
