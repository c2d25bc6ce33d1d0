package policy

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// etcWith writes passwd and group into a temp etc dir.
func etcWith(t *testing.T, passwd, group string) string {
	t.Helper()
	etc := t.TempDir()
	writeFile(t, filepath.Join(etc, "passwd"), passwd, 0o644)
	writeFile(t, filepath.Join(etc, "group"), group, 0o644)
	return etc
}

const testPasswd = `root:x:0:0:root:/root:/bin/bash
daemon:x:1:1::/usr/sbin:/usr/sbin/nologin
debian:x:1000:1000::/home/debian:/bin/bash
alice:x:1001:1001::/home/alice:/bin/bash
bob:x:1002:1002::/home/bob:/bin/bash
twin:x:1001:1001::/home/twin:/bin/bash
`

const testGroup = `root:x:0:
docker:x:999:debian
codescalers:x:998:alice,bob
debian:x:1000:
alice:x:1001:
bob:x:1002:
devs:x:2000:alice,bob
mixed:x:2001:alice,debian
empty:x:2002:
`

func TestMachineJudgesByTheFiles(t *testing.T) {
	etc := etcWith(t, testPasswd, testGroup)
	m, err := ReadMachine(Defaults(etc), etc)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"root": false, "daemon": false, "debian": false, "alice": true, "bob": true, "twin": false, "nobody": false} {
		if got := m.UserManaged(name); got != want {
			t.Errorf("UserManaged(%s) = %v", name, got)
		}
	}
	// 1001 is shared with an unmanaged account: no file may be given it.
	for uid, want := range map[uint32]bool{0: false, 1000: false, 1001: false, 1002: true, 5000: false} {
		if got := m.UIDManaged(uid); got != want {
			t.Errorf("UIDManaged(%d) = %v", uid, got)
		}
	}
	for gid, want := range map[uint32]bool{0: false, 999: false, 1000: false, 1002: true, 2000: true, 2001: false, 2002: false} {
		if got := m.GIDManaged(gid); got != want {
			t.Errorf("GIDManaged(%d) = %v", gid, got)
		}
	}
	// Without a record, devs (all members managed) is guessed managed.
	for g, want := range map[string]bool{"codescalers": true, "devs": true, "docker": false, "debian": false, "alice": false, "mixed": false, "empty": false, "nope": false} {
		if got := m.GroupJoinable(g); got != want {
			t.Errorf("GroupJoinable(%s) = %v", g, got)
		}
	}
}

func TestRecordDecidesOnceWritten(t *testing.T) {
	etc := etcWith(t, testPasswd, testGroup)
	p := Defaults(etc)
	p.Groups = []string{"docker"}
	m, _ := ReadMachine(p, etc)
	if err := m.RecordManagedGroup(etc, "empty", true); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(etc, ManagedGroupsFile))
	if string(data) != "# Groups hero_codescalers made (group-create); kept by its accounts plugins.\ndevs\nempty\n" {
		t.Fatalf("record:\n%s", data)
	}
	m, _ = ReadMachine(p, etc)
	if !m.GroupJoinable("empty") || !m.GroupJoinable("docker") || !m.GIDManaged(2002) {
		t.Fatal("recorded group, or the policy's named group, not joinable")
	}
	if err := m.RecordManagedGroup(etc, "devs", false); err != nil {
		t.Fatal(err)
	}
	m, _ = ReadMachine(p, etc)
	if m.GroupJoinable("devs") || m.GIDManaged(2000) {
		t.Fatal("a dropped group is still managed")
	}
	if got := m.ManagedGroups(); len(got) != 1 || got[0] != "empty" {
		t.Fatalf("ManagedGroups: %v", got)
	}
}

func TestMachineNeedsTheFiles(t *testing.T) {
	if _, err := ReadMachine(Defaults(t.TempDir()), t.TempDir()); err == nil {
		t.Fatal("no passwd: want an error")
	}
}

// TestRecordOthersCouldWriteIsRefused: a record anyone but root could
// have written (naming a group in it makes the group joinable) fails the
// read, so the plugins refuse rather than trust it.
func TestRecordOthersCouldWriteIsRefused(t *testing.T) {
	etc := etcWith(t, testPasswd, testGroup)
	writeFile(t, filepath.Join(etc, ManagedGroupsFile), "empty\n", 0o666)
	if _, err := ReadMachine(Defaults(etc), etc); !errors.Is(err, ErrInsecure) {
		t.Fatalf("world-writable record: %v", err)
	}
	os.Chmod(filepath.Join(etc, ManagedGroupsFile), 0o644)
	m, err := ReadMachine(Defaults(etc), etc)
	if err != nil || !m.GroupJoinable("empty") {
		t.Fatalf("a protected record decides: %v", err)
	}
}
