package fleet

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
)

// fleetGroups: a fleet group lands on every node with one gid; a fleet
// user created into it joins it on every node; a group of one node alone
// is refused for a fleet user before anything is written (it would exist
// nowhere else); the group's delete removes it everywhere.
func fleetGroups(t *testing.T, nodes []*testNode) {
	ctx := context.Background()
	res, err := nodes[0].svc.FleetGroupCreate(ctx, core.Group{Name: "devs"}, 15*time.Second)
	if err != nil || res.Failed != 0 || len(res.Rows) != len(nodes) {
		t.Fatalf("group devs: %v %s", err, rows(res))
	}
	res, err = nodes[1].svc.FleetUserCreate(ctx, core.CreateSpec{Name: "gus", Groups: []string{"devs"}}, "", 15*time.Second)
	if err != nil || res.Failed != 0 || len(res.Rows) != len(nodes) {
		t.Fatalf("gus into devs: %v %s", err, rows(res))
	}
	gid := 0
	for _, n := range nodes {
		g, err := n.svc.GroupGet(ctx, "devs")
		if err != nil || !g.Fleet || (gid != 0 && g.GID != gid) {
			t.Errorf("%s: devs %+v %v (another node's gid %d)", n.name, g, err, gid)
		}
		gid = g.GID
		if u, err := n.fk.a.GetUser(ctx, "gus"); err != nil || !slices.Contains(u.Groups, "devs") {
			t.Errorf("%s: gus %+v %v, want a member of devs", n.name, u, err)
		}
	}
	// A user and a fleet group may not share a name: the user's own
	// group would be named like the fleet group on every node.
	if _, err := nodes[0].svc.FleetUserCreate(ctx, core.CreateSpec{Name: "devs"}, "", 15*time.Second); !core.IsCode(err, core.AlreadyExists) || !strings.Contains(err.Error(), "fleet group devs exists") {
		t.Errorf("a fleet user named like the fleet group devs: %v", err)
	}
	if _, err := nodes[0].svc.FleetGroupCreate(ctx, core.Group{Name: "gus"}, 15*time.Second); !core.IsCode(err, core.AlreadyExists) || !strings.Contains(err.Error(), "fleet user gus") {
		t.Errorf("a fleet group named like the fleet user gus: %v", err)
	}
	for _, key := range []string{"user.devs", "group.gus"} {
		kind, name, _ := strings.Cut(key, ".")
		var err error
		if kind == "user" {
			_, err = nodes[0].f.User(ctx, name)
		} else {
			_, err = nodes[0].f.Group(ctx, name)
		}
		if !core.IsCode(err, core.NotFound) {
			t.Errorf("%s was written: %v", key, err)
		}
	}
	if _, err := nodes[0].svc.GroupCreate(ctx, core.Group{Name: "n1only"}); err != nil {
		t.Fatal(err)
	}
	_, err = nodes[0].svc.FleetUserCreate(ctx, core.CreateSpec{Name: "hal", Groups: []string{"n1only"}}, "", 15*time.Second)
	if !core.IsCode(err, core.Invalid) {
		t.Errorf("a fleet user into n1's own group: %v, want invalid groups", err)
	}
	if _, err := nodes[0].f.User(ctx, "hal"); !core.IsCode(err, core.NotFound) {
		t.Errorf("hal was written: %v", err)
	}
	if res, err := nodes[0].svc.FleetUserDelete(ctx, "gus", false, 15*time.Second); err != nil || res.Failed != 0 {
		t.Fatalf("delete gus: %v %s", err, rows(res))
	}
	if res, err := nodes[2].svc.FleetGroupDelete(ctx, "devs", false, 15*time.Second); err != nil || res.Failed != 0 || len(res.Rows) != len(nodes) {
		t.Fatalf("delete devs: %v %s", err, rows(res))
	}
	for _, n := range nodes {
		if _, err := n.svc.GroupGet(ctx, "devs"); !core.IsCode(err, core.NotFound) {
			t.Errorf("%s still has devs: %v", n.name, err)
		}
	}
	if err := nodes[0].svc.GroupDelete(ctx, "n1only", false); err != nil {
		t.Fatal(err)
	}
}
