package guard

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

func scratchEtc(t *testing.T) string {
	t.Helper()
	etc := t.TempDir()
	files := map[string]string{
		"passwd": "root:x:0:0::/root:/bin/bash\ndaemon:x:1:1::/:/usr/sbin/nologin\n" +
			"debian:x:1000:1000::/home/debian:/bin/bash\nalice:x:1001:1001::/home/alice:/bin/bash\n" +
			"bob:x:1002:1002::/home/bob:/bin/bash\ntwin:x:1001:1001::/home/twin:/bin/bash\n" +
			"sysbot:x:150:150::/:/bin/sh\n",
		"group": "root:x:0:\ncodescalers:x:998:alice,bob,sysbot,root\ndebian:x:1000:\nalice:x:1001:\nbob:x:1002:\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(etc, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return etc
}

// TestGuardRefusesWhatItDoesNotManage: root, a system account and a
// person's own account are refused with PermissionDenied naming them,
// even when the marker group lists them; an unknown name is NotFound.
func TestGuardRefusesWhatItDoesNotManage(t *testing.T) {
	etc := scratchEtc(t)
	g := New(policy.Defaults(etc), etc)
	for _, user := range []string{"root", "daemon", "sysbot", "debian"} {
		err := g.User(user)
		if !sdkerr.Is(err, sdkerr.PermissionDenied) || !strings.Contains(err.Error(), `"`+user+`"`) {
			t.Errorf("User(%s) = %v, want PermissionDenied naming it", user, err)
		}
		if _, err := g.UID(user); !sdkerr.Is(err, sdkerr.PermissionDenied) {
			t.Errorf("UID(%s) = %v", user, err)
		}
	}
	if err := g.User("nobody-here"); !sdkerr.Is(err, sdkerr.NotFound) {
		t.Errorf("User(nobody-here) = %v, want NotFound", err)
	}
	if err := g.User("bob"); err != nil {
		t.Errorf("User(bob) = %v", err)
	}
	if uid, err := g.UID("bob"); err != nil || uid != 1002 {
		t.Errorf("UID(bob) = %d %v", uid, err)
	}
	// alice is managed, but her uid is twin's too: signalling it would
	// reach an unmanaged account's processes.
	if err := g.User("alice"); err != nil {
		t.Errorf("User(alice) = %v", err)
	}
	if _, err := g.UID("alice"); !sdkerr.Is(err, sdkerr.PermissionDenied) || !strings.Contains(err.Error(), "twin") {
		t.Errorf("UID(alice) = %v, want PermissionDenied naming twin", err)
	}
	ok, err := g.Managed()
	if err != nil {
		t.Fatal(err)
	}
	for user, want := range map[string]bool{"root": false, "sysbot": false, "debian": false, "alice": true, "bob": true, "": false} {
		if ok(user) != want {
			t.Errorf("Managed(%q) = %v", user, !want)
		}
	}
}

// TestGuardWithoutPolicyRefusesAll: a policy that cannot be used refuses
// every call rather than guess.
func TestGuardWithoutPolicyRefusesAll(t *testing.T) {
	g := &Guard{err: errors.New("policy file is not root-owned")}
	if err := g.User("bob"); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("User = %v", err)
	}
	if _, err := g.Managed(); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("Managed = %v", err)
	}
}
