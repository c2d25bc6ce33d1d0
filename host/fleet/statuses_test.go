package fleet

import (
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
)

// TestHeardStatusesFillAStaleList: a status heard but not yet in a
// replica's list is added; a listed one of an older revision is replaced;
// a newer listed one stays; other objects are left out.
func TestHeardStatusesFillAStaleList(t *testing.T) {
	var h heardStatuses
	h.note(core.NodeStatus{Node: "n4", Object: "user/pia", Revision: 7, Outcome: core.FleetOK})
	h.note(core.NodeStatus{Node: "n2", Object: "user/pia", Revision: 7, Outcome: core.FleetOK})
	h.note(core.NodeStatus{Node: "n3", Object: "user/pia", Revision: 5, Outcome: core.FleetOK})
	h.note(core.NodeStatus{Node: "n1", Object: "user/bob", Revision: 9, Outcome: core.FleetOK})
	listed := []core.NodeStatus{
		{Node: "n2", Object: "user/pia", Revision: 6, Outcome: core.FleetError},
		{Node: "n3", Object: "user/pia", Revision: 8, Outcome: core.FleetRemoved},
	}
	got := map[string]core.NodeStatus{}
	for _, st := range h.merge("user/pia", listed) {
		got[st.Node] = st
	}
	if len(got) != 3 || got["n4"].Revision != 7 || got["n2"].Outcome != core.FleetOK || got["n3"].Outcome != core.FleetRemoved {
		t.Fatalf("merged %+v", got)
	}
	if all := h.merge("", nil); len(all) != 4 {
		t.Fatalf("every object: %+v", all)
	}
}
