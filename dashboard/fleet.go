package dashboard

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// The Fleet tab: this host's membership, every node of the fleet (labels,
// version, last seen, converged or how far behind) and the last fleet
// calls made through this host with one row per node. It only reads: the
// fleet's changes stay with the CLI and the API, where --wait and the
// per-node exit code belong.

// fleetBody is the Fleet tab's content.
type fleetBody struct {
	Info  core.FleetInfo
	Nodes []fleetNode
	Calls []core.FleetCall
}

// fleetNode is one row of the nodes' table.
type fleetNode struct {
	core.Node
	Labels string
	State  string // converged, "N behind", "drift N", or down
	Badge  string // the badge's class for State
}

// fleet renders the Fleet tab.
func (d *Dashboard) fleet(c *gin.Context) {
	if !d.allowed(c, api.MFleetStatus) {
		return
	}
	st, err := d.svc.FleetStatusGet(c.Request.Context())
	if err != nil {
		d.failErr(c, err)
		return
	}
	body := fleetBody{Info: st.Info, Calls: d.svc.FleetRecentCalls()}
	for _, n := range st.Nodes {
		state, badge := nodeState(n)
		body.Nodes = append(body.Nodes, fleetNode{Node: n, Labels: labelList(n.Labels), State: state, Badge: badge})
	}
	d.html(c, http.StatusOK, "fleet", page{Title: "Fleet", Tab: "fleet", Live: "fleet", Body: body})
}

// nodeState says where a node stands, in fleet-status' words.
func nodeState(n core.Node) (string, string) {
	switch {
	case !n.Live:
		return "down", "error"
	case n.Converged:
		return "converged", "ok"
	case n.Behind > 0:
		return strconv.Itoa(n.Behind) + " behind", "degraded"
	}
	return "drift " + strconv.Itoa(n.Drift), "degraded"
}

// labelList is a node's labels as node-label writes them, sorted.
func labelList(labels map[string]string) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		out = append(out, k+"="+labels[k])
	}
	return strings.Join(out, ", ")
}

// fleetFingerprint is what the Fleet tab shows that may change: the
// membership, each node's state (not its last-seen time, which moves with
// every announcement) and the last calls. Outside a fleet it costs nothing.
func (d *Dashboard) fleetFingerprint(ctx context.Context) (uint64, bool) {
	st, err := d.svc.FleetStatusGet(ctx)
	if err != nil {
		return 0, false
	}
	for i := range st.Nodes {
		st.Nodes[i].LastSeen = time.Time{}
	}
	calls := d.svc.FleetRecentCalls()
	var newest any
	if len(calls) > 0 {
		newest = calls[0].At
	}
	return fingerprint([]any{st, len(calls), newest}), true
}

// outcomeBadge is the badge's class of a row's outcome.
func outcomeBadge(outcome string) string {
	switch outcome {
	case core.FleetOK, core.FleetRemoved:
		return "ok"
	case core.FleetSkipped:
		return ""
	}
	return "error"
}
