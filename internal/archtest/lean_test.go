package archtest

import (
	"slices"
	"strings"
	"testing"
)

// lean lists packages that must start fast and what each must not link:
// core and the typed API client need the plugin contracts (interfaces,
// types, checks, sdkerr's error type) but none of the machinery that
// carries them, which costs milliseconds at each start; hero_codescalers,
// which runs once per call in scripts, must also leave out the host's own
// code, which its serve, plugin check and setup driver hand over to
// hero_codescalers_server.
var lean = []struct {
	root    string
	alsoNot []string // packages of this module, beyond heavy
}{
	{"core", nil},
	{"core/api", nil},
	{"core/api/client", nil},
	{"cli/hero_codescalers", []string{"host", "sdk/plugintest", "cli/server"}},
}

// heavy are the module paths no lean package may link: gRPC, protobuf and
// go-plugin live in the sdk's <concern>grpc and sdkerrgrpc packages and in
// the host; Badger lives in host/state; the embedded NATS server and its
// client in host/fleet.
var heavy = []string{
	"google.golang.org/grpc",
	"google.golang.org/protobuf",
	"github.com/hashicorp/go-plugin",
	"github.com/golang/protobuf",
	"github.com/dgraph-io/badger",
	"github.com/nats-io",
}

// TestLeanPackages keeps each lean package's closure free of what it must
// not link. A failure names the import chain from the package to each
// package that first pulls a forbidden one in.
func TestLeanPackages(t *testing.T) {
	roots := make([]string, len(lean))
	for i, l := range lean {
		roots[i] = module + "/" + l.root
	}
	graph := importGraph(t, roots)
	for i, root := range roots {
		forbidden := slices.Clone(heavy)
		for _, p := range lean[i].alsoNot {
			forbidden = append(forbidden, module+"/"+p)
		}
		isForbidden := func(p string) bool {
			return slices.ContainsFunc(forbidden, func(f string) bool { return under(p, f) })
		}
		parent := reach(graph, root)
		var found []string
		for from := range parent {
			if isForbidden(from) {
				continue
			}
			for _, to := range graph[from] {
				if isForbidden(to) {
					found = append(found, strings.Join(append(chain(parent, from), to), " -> "))
				}
			}
		}
		slices.Sort(found)
		for _, c := range found {
			t.Errorf("%s links what it must not: %s", lean[i].root, c)
		}
	}
}

// importGraph maps every package the roots depend on to its imports.
func importGraph(t *testing.T, roots []string) map[string][]string {
	t.Helper()
	out := goList(t, append([]string{"-deps", "-f", `{{.ImportPath}} {{join .Imports " "}}`}, roots...)...)
	graph := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) > 0 {
			graph[f[0]] = f[1:]
		}
	}
	return graph
}

// reach walks the graph breadth-first from root and returns, for each
// package reached, the package it was first reached from ("" for root), so
// chain gives a shortest import chain.
func reach(graph map[string][]string, root string) map[string]string {
	parent := map[string]string{root: ""}
	queue := []string{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, imp := range graph[p] {
			if _, seen := parent[imp]; !seen {
				parent[imp] = p
				queue = append(queue, imp)
			}
		}
	}
	return parent
}

// chain is the import chain from the walk's root to p, with this module's
// packages named relative to it.
func chain(parent map[string]string, p string) []string {
	var c []string
	for ; p != ""; p = parent[p] {
		c = append(c, p)
	}
	slices.Reverse(c)
	for i, p := range c {
		if r, ok := rel(p); ok {
			c[i] = r
		}
	}
	return c
}
