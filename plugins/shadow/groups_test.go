package shadow

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/plugins/internal/failpoint/failpointtest"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// TestGroupCrashWindows: a plugin that dies between groupadd and the
// managed-groups record, or between taking a group off that record and
// its groupdel, leaves a group off the record; the pending-groups record
// still lets the host's rollback (or its retried delete) remove it, and
// nothing else.
func TestGroupCrashWindows(t *testing.T) {
	s, fr := newTest(t)
	ctx := context.Background()
	fr.respond = func(argv []string, _ []byte) error {
		playGroupTools(t, s, argv)
		return nil
	}
	managed := func() string {
		b, _ := os.ReadFile(filepath.Join(s.Etc, policy.ManagedGroupsFile))
		return string(b)
	}

	failpointtest.CrashAt(t, "accounts.groupadd.after", func() { _, _ = s.CreateGroup(ctx, "ops", 0) })
	if g, err := s.GetGroup(ctx, "ops"); err != nil || strings.Contains(managed(), "ops") {
		t.Fatalf("setup: want ops made and off the record: %+v %v\n%s", g, err, managed())
	}
	if _, err := s.CreateGroup(ctx, "ops", 0); !sdkerr.Is(err, sdkerr.PermissionDenied) {
		t.Errorf("a create over the crashed one adopted it: %v", err)
	}
	if err := s.DeleteGroup(ctx, "ops"); err != nil {
		t.Fatalf("rollback of the crashed create: %v", err)
	}
	if _, err := s.GetGroup(ctx, "ops"); !sdkerr.Is(err, sdkerr.NotFound) {
		t.Errorf("ops survived its rollback: %v", err)
	}

	failpointtest.CrashAt(t, "accounts.groupdel.before", func() { _ = s.DeleteGroup(ctx, "devs") })
	if strings.Contains(managed(), "devs") {
		t.Fatalf("setup: want devs off the record:\n%s", managed())
	}
	if err := s.DeleteGroup(ctx, "devs"); err != nil {
		t.Fatalf("retried delete of devs: %v", err)
	}
	if _, err := s.GetGroup(ctx, "devs"); !sdkerr.Is(err, sdkerr.NotFound) {
		t.Errorf("devs survived its retried delete: %v", err)
	}
	if pend, err := etcdb.ReadPendingGroups(s.Etc); err != nil || len(pend) != 0 {
		t.Errorf("pending groups once all is done: %v %v, want none", pend, err)
	}

	// The record lets through only what it names with the same gid, in
	// the policy's range, never the marker group, and only when no one
	// else could have written it.
	if err := etcdb.WritePendingGroups(s.Etc, map[string]uint32{"docker": 999, "bob": 1003, "hc": 1000}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"docker", "bob", "hc", "sudo"} {
		if err := s.DeleteGroup(ctx, name); !sdkerr.Is(err, sdkerr.PermissionDenied) {
			t.Errorf("delete of %s with a pending entry that does not match it: %v", name, err)
		}
	}
	if err := etcdb.WritePendingGroups(s.Etc, map[string]uint32{"bob": 1002}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(s.Etc, etcdb.PendingGroupsFile), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGroup(ctx, "bob"); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("delete through a record anyone could write: %v", err)
	}
	for _, c := range fr.calls {
		if c.argv[0] == "groupdel" && c.argv[len(c.argv)-1] != "ops" && c.argv[len(c.argv)-1] != "devs" {
			t.Errorf("ran %q", c.argv)
		}
	}
}

// TestGroupaddRefusedLeavesNoClaim: a groupadd that finds the name or the
// gid taken meanwhile (another process was faster) wrote nothing, and the
// pending record must not claim the other's group; a gid CreateGroup
// chose itself is chosen again, past any groupadd refused.
func TestGroupaddRefusedLeavesNoClaim(t *testing.T) {
	s, fr := newTest(t)
	ctx := context.Background()
	fr.respond = func(argv []string, _ []byte) error {
		if argv[0] == "groupadd" && argv[len(argv)-1] == "ops" {
			// another process's groupadd ops won the race, with the
			// same gid this one chose
			edit(t, s, "group", func(tb *etcdb.Table) { tb.Put([]string{"ops", "x", argv[2], ""}) })
			return withCode(os.ErrExist, sdkerr.AlreadyExists)
		}
		playGroupTools(t, s, argv)
		return nil
	}
	if _, err := s.CreateGroup(ctx, "ops", 0); !sdkerr.Is(err, sdkerr.PermissionDenied) {
		t.Errorf("create that lost the race: %v, want the other's group refused", err)
	}
	if err := s.DeleteGroup(ctx, "ops"); !sdkerr.Is(err, sdkerr.PermissionDenied) {
		t.Errorf("delete of the other's ops: %v, want refused", err)
	}

	taken := 0
	fr.respond = func(argv []string, _ []byte) error {
		if argv[0] == "groupadd" && taken < 2 {
			// the gid chosen is taken meanwhile, twice
			taken++
			edit(t, s, "group", func(tb *etcdb.Table) { tb.Put([]string{"other" + argv[2], "x", argv[2], ""}) })
			return withCode(os.ErrExist, sdkerr.AlreadyExists)
		}
		playGroupTools(t, s, argv)
		return nil
	}
	// the other's ops has 2001; the races take 2002 and 2003
	g, err := s.CreateGroup(ctx, "web", 0)
	if err != nil || g.GID != 2004 {
		t.Errorf("create whose gid was taken twice: %+v %v, want gid 2004", g, err)
	}
	if pend, err := etcdb.ReadPendingGroups(s.Etc); err != nil || len(pend) != 0 {
		t.Errorf("pending groups: %v %v, want none", pend, err)
	}

	// gids the local files do not show (NSS: LDAP groups) that groupadd
	// refuses: passed over, not chosen again
	nss := map[string]bool{"2005": true, "2006": true, "2007": true}
	fr.respond = func(argv []string, _ []byte) error {
		if argv[0] == "groupadd" && nss[argv[2]] {
			return withCode(os.ErrExist, sdkerr.AlreadyExists)
		}
		playGroupTools(t, s, argv)
		return nil
	}
	if g, err := s.CreateGroup(ctx, "ldapnear", 0); err != nil || g.GID != 2008 {
		t.Errorf("create next to gids only NSS has: %+v %v, want gid 2008", g, err)
	}
}
