package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// completeCmd is what the completion scripts run to complete a name:
// `hero_codescalers __complete users|groups|nodes` prints the host's
// names, one a line. It waits at most half a second and prints nothing
// (exit 0) when the host does not answer: completion must stay instant,
// and work as far as it can, when the host is down.
type completeCmd struct {
	Kind string `arg:"" enum:"users,groups,nodes" help:"users, groups or nodes."`
}

// completeTimeout bounds the host call behind one tab press.
const completeTimeout = 500 * time.Millisecond

func (c *completeCmd) Run(rt *runCtx) error {
	names, _ := rt.names(c.Kind)
	for _, n := range names {
		fmt.Fprintln(rt.env.Stdout, n)
	}
	return nil
}

// names asks the host for the names of a kind.
func (rt *runCtx) names(kind string) ([]string, error) {
	cl, err := rt.client()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(rt.ctx, completeTimeout)
	defer cancel()
	var out []string
	switch kind {
	case "users":
		res, err := cl.UserList(ctx, api.UserListParams{Limit: 1000})
		for _, u := range res.Users {
			out = append(out, u.Name)
		}
		return out, err
	case "groups":
		gs, err := cl.GroupList(ctx)
		for _, g := range gs {
			out = append(out, g.Name)
		}
		return out, err
	case "nodes":
		ns, err := cl.NodeList(ctx)
		for _, n := range ns {
			out = append(out, n.Name)
		}
		return out, err
	}
	return nil, nil
}

// dynamicKind is the kind of name a command's first argument is, for
// completion from the host: users for the user and session commands,
// groups and nodes for theirs, "" where the name is new (create, add) or
// there is none.
func dynamicKind(cmd string) string {
	switch {
	case cmd == "user-create" || cmd == "user-list" || cmd == "group-create" || cmd == "group-list" || cmd == "node-add" || cmd == "node-list":
		return ""
	case strings.HasPrefix(cmd, "user-"), strings.HasPrefix(cmd, "session-"):
		return "users"
	case strings.HasPrefix(cmd, "group-"):
		return "groups"
	case strings.HasPrefix(cmd, "node-"):
		return "nodes"
	}
	return ""
}
