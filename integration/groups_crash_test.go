//go:build integration

package integration

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
)

// TestCrashInsideGroupCalls kills the host (SIGKILL, from a failpoint of
// this test build inside the accounts plugin) where a group's create
// has written the group but not yet recorded it as its own, and where a
// group's delete has taken it off that record but not yet removed it: in
// shadow's groupadd and groupdel (pinned), and between the native files
// plugin's group and gshadow writes and after them (the default). After a
// restart the create's rollback removes the group, a repeated delete
// removes it, and the account files end as they began, with nothing left
// pending. Before the pending-groups record, the plugin refused both (the
// group was not on its record) and the rollback retried forever.
func TestCrashInsideGroupCalls(t *testing.T) {
	sandbox.Require(t)
	quotasOn(t)
	bin := buildTree(t, "hc_failpoints")
	shadow := []string{"--plugin", "accounts=shadow"}
	h := newHost(t, bin)
	h.start() // the marker group is made at the first start
	h.stop()
	before := machineState(t)
	const name = "crashgrp"
	gone := func(t *testing.T) {
		t.Helper()
		waitFor(t, name+" gone from group and gshadow", 20*time.Second, func() bool {
			st := machineState(t)
			return !strings.Contains(st["group"], "\n"+name+":") && !strings.Contains(st["gshadow"], "\n"+name+":")
		})
		sameMachine(t, before, machineState(t))
		if _, err := os.Lstat("/etc/hero_codescalers/pending-groups"); !os.IsNotExist(err) {
			t.Errorf("a pending-groups record is left: %v", err)
		}
	}
	for _, p := range []struct {
		op, point string
		pin       []string
	}{
		{"create", "accounts.groupadd.after", shadow},
		{"create", "accounts.files.commit.group.after", nil},
		{"create", "accounts.files.commit.gshadow.after", nil},
		{"delete", "accounts.groupdel.before", shadow},
		{"delete", "accounts.files.commit.group.after", nil},
	} {
		t.Run(p.op+"/"+p.point, func(t *testing.T) {
			h := newHost(t, bin)
			h.args = p.pin
			if p.op == "delete" {
				h.start()
				if e := h.call(api.MGroupCreate, api.GroupCreateParams{Name: name}, nil); e != nil {
					t.Fatalf("group.create: %+v", e)
				}
				h.stop()
			}
			h.start("HC_FAILPOINTS=" + p.point + "=crash")
			if p.op == "create" {
				go h.callQuiet(api.MGroupCreate, api.GroupCreateParams{Name: name})
			} else {
				go h.callQuiet(api.MGroupDelete, api.GroupDeleteParams{Name: name})
			}
			h.waitExit(20 * time.Second)
			h.start() // recovery runs with the plugin the crash did
			if p.op == "delete" {
				if e := h.call(api.MGroupDelete, api.GroupDeleteParams{Name: name}, nil); e != nil {
					t.Fatalf("group.delete after the crash: %+v\nhost log:\n%s", e, h.log)
				}
			}
			gone(t)
			if t.Failed() {
				t.Logf("host log after the restart:\n%s", h.log)
			}
			h.stop()
		})
	}
}
