package archtest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

const module = "github.com/threefoldtech/hero_codescalers"

type pkg struct {
	ImportPath   string
	Doc          string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Deps         []string
	Standard     bool
}

// rule says what a folder's packages may import from this module, and
// whether they may import modules other than the standard library. except
// carves folders out of allowed.
type rule struct {
	prefix     string
	allowed    []string
	thirdParty bool
	except     []string
}

// rules are matched by longest prefix; "" allows the module root.
var rules = []rule{
	{"core/api/client", []string{"core/api", "core"}, false, nil},
	{"core/api", []string{"core"}, false, nil},
	{"core", []string{"core", "sdk"}, false, nil},
	{"sdk", []string{"sdk"}, true, nil},
	{"plugins", []string{"sdk", "plugins"}, true, nil},
	{"host", []string{"host", "core", "sdk", "dashboard"}, true, nil},
	{"dashboard", []string{"dashboard", "core", "core/api"}, true, nil},
	// The command tree and hero_codescalers reach the host only through
	// core/api; the host's own code is the server half's alone.
	{"cli", []string{"cli", "core/api"}, true, []string{"cli/server"}},
	{"cli/server", []string{"cli", "core/api", "host", "sdk/plugintest"}, true, nil},
	{"cli/hero_codescalers_server", []string{"cli"}, true, nil},
	{"examples", []string{"sdk", "core/api/client", "core/api"}, true, nil},
	{"integration", []string{""}, true, nil},
	// make bench's measurement programs: they drive the product's
	// packages from outside; no product package links them.
	{"bench", []string{"bench", "core", "host", "sdk", "dashboard"}, true, nil},
	{"internal", []string{"internal"}, true, nil},
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	out := goList(t, "-deps=false", "-test=false", "-json", module+"/...")
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func rel(path string) (string, bool) {
	if path == module {
		return "", true
	}
	r, ok := strings.CutPrefix(path, module+"/")
	return r, ok
}

func under(path, prefix string) bool {
	return prefix == "" || path == prefix || strings.HasPrefix(path, prefix+"/")
}

func ruleFor(path string) (rule, bool) {
	best, found := rule{}, false
	for _, r := range rules {
		if under(path, r.prefix) && (!found || len(r.prefix) > len(best.prefix)) {
			best, found = r, true
		}
	}
	return best, found
}

func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func TestDependencyDirections(t *testing.T) {
	for _, p := range listPackages(t) {
		from, _ := rel(p.ImportPath)
		r, ok := ruleFor(from)
		if !ok {
			t.Errorf("%s: no rule for this folder; add it to DESIGN.md §7 and to rules", from)
			continue
		}
		for _, imp := range p.Imports {
			to, internal := rel(imp)
			switch {
			case internal && under(to, "integration"):
				t.Errorf("%s imports %s: nothing imports integration", from, to)
			case internal && under(to, "bench") && !under(from, "bench") && !under(from, "integration"):
				t.Errorf("%s imports %s: measurement code stays out of the product", from, to)
			case internal && !allowed(r, to):
				t.Errorf("%s imports %s: not allowed (may import %v)", from, to, r.allowed)
			case !internal && !isStd(imp) && !r.thirdParty:
				t.Errorf("%s imports %s: only the standard library is allowed here", from, imp)
			}
		}
	}
}

func allowed(r rule, to string) bool {
	for _, e := range r.except {
		if under(to, e) {
			return false
		}
	}
	for _, a := range r.allowed {
		if under(to, a) {
			return true
		}
	}
	return false
}

// TestSDKIsSelfContained checks the transitive closure too: a plugin author
// importing sdk must never pull in the host or the core.
func TestSDKIsSelfContained(t *testing.T) {
	out := goList(t, "-deps", "-f", "{{.ImportPath}}", module+"/sdk/...", module+"/plugins/...")
	for _, dep := range strings.Fields(string(out)) {
		to, internal := rel(dep)
		if internal && !under(to, "sdk") && !under(to, "plugins") {
			t.Errorf("sdk/plugins depend on %s", to)
		}
	}
}

func TestPackageComments(t *testing.T) {
	for _, p := range listPackages(t) {
		if strings.TrimSpace(p.Doc) == "" {
			t.Errorf("%s has no package comment", p.ImportPath)
		}
	}
}
