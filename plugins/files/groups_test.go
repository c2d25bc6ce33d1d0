package files

import (
	"context"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/plugins/internal/failpoint/failpointtest"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// TestGroupCrashWindows: a crash between a group's commit (or between its
// group and gshadow writes) and the managed-groups record, or in a
// delete after the group came off that record, leaves a group no call
// could touch but for the pending-groups record, through which the
// host's rollback (or its retried delete) removes it from group and
// gshadow alike. The files end as they began.
func TestGroupCrashWindows(t *testing.T) {
	ctx := context.Background()
	for _, point := range []string{"accounts.files.commit.group.after", "accounts.files.commit.gshadow.after"} {
		t.Run("create/"+point, func(t *testing.T) {
			f := newTestWith(t, fenceFixture())
			before := snapshot(t, f)
			failpointtest.CrashAt(t, point, func() { _, _ = f.CreateGroup(ctx, "ops", 0) })
			if !strings.Contains(read(t, f, "group"), "\nops:x:2001:") || strings.Contains(read(t, f, policy.ManagedGroupsFile), "ops") {
				t.Fatalf("setup: want ops written and off the record")
			}
			if _, err := f.CreateGroup(ctx, "ops", 0); !sdkerr.Is(err, sdkerr.PermissionDenied) {
				t.Errorf("a create over the crashed one adopted it: %v", err)
			}
			if err := f.DeleteGroup(ctx, "ops"); err != nil {
				t.Fatalf("rollback of the crashed create: %v", err)
			}
			sameFiles(t, f, before)
			noPendingGroups(t, f)
		})
		t.Run("delete/"+point, func(t *testing.T) {
			f := newTestWith(t, fenceFixture())
			before := snapshot(t, f)
			if _, err := f.CreateGroup(ctx, "ops", 0); err != nil {
				t.Fatal(err)
			}
			failpointtest.CrashAt(t, point, func() { _ = f.DeleteGroup(ctx, "ops") })
			if strings.Contains(read(t, f, policy.ManagedGroupsFile), "ops") {
				t.Fatalf("setup: want ops off the record")
			}
			if point == "accounts.files.commit.group.after" && !strings.Contains(read(t, f, "gshadow"), "\nops:") {
				t.Fatalf("setup: want ops still in gshadow")
			}
			if err := f.DeleteGroup(ctx, "ops"); err != nil {
				t.Fatalf("retried delete: %v", err)
			}
			sameFiles(t, f, before)
			noPendingGroups(t, f)
		})
	}

	// The record lets through only what it names with the same gid, in
	// the policy's range, never the marker group.
	f := newTestWith(t, fenceFixture())
	if err := etcdb.WritePendingGroups(f.Etc, map[string]uint32{"docker": 999, "bob": 1003, "hc": 1001}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, f)
	for _, name := range []string{"docker", "bob", "hc", "sudo"} {
		if err := f.DeleteGroup(ctx, name); !sdkerr.Is(err, sdkerr.PermissionDenied) {
			t.Errorf("delete of %s with a pending entry that does not match it: %v", name, err)
		}
	}
	sameFiles(t, f, before)
}

// noPendingGroups checks nothing is left on the pending-groups record.
func noPendingGroups(t *testing.T, f *Files) {
	t.Helper()
	if pend, err := etcdb.ReadPendingGroups(f.Etc); err != nil || len(pend) != 0 {
		t.Errorf("pending groups: %v %v, want none", pend, err)
	}
}
