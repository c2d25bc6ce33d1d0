package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

func TestConfigManifest(t *testing.T) {
	cfg := Config{Name: "tmux", Version: "1", Supports: identity.Supports{Generic: true}, Sessions: sessions.NewFake()}
	m := cfg.Manifest()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(m.Concerns, ",") != "sessions" || strings.Join(m.APIVersions, ",") != "identity.v1,sessions.v2" {
		t.Errorf("manifest %+v", m)
	}
	if set := cfg.pluginSet(); len(set) != 2 || set[ConcernSessions] == nil || set[ConcernIdentity] == nil {
		t.Errorf("plugin set %v", set)
	}
	var nilVolumes *volumes.Fake // a typed nil is still an implementation
	if (Config{Name: "x", Version: "1", Volumes: nilVolumes}).Manifest().Serves(ConcernVolumes) != true {
		t.Error("typed nil implementation not served")
	}
}

func TestManifestValidate(t *testing.T) {
	good := Manifest{Schema: 1, Name: "shadow", Version: "1", Concerns: []string{"accounts"},
		APIVersions: []string{"identity.v1", "accounts.v1"}}
	bad := map[string]func(*Manifest){
		"schema":      func(m *Manifest) { m.Schema = 2 },
		"name":        func(m *Manifest) { m.Name = "../x" },
		"no concerns": func(m *Manifest) { m.Concerns = nil },
		"unknown":     func(m *Manifest) { m.Concerns = []string{"printers"} },
		"identity":    func(m *Manifest) { m.Concerns = []string{"identity"} },
		"twice":       func(m *Manifest) { m.Concerns = []string{"accounts", "accounts"} },
		"no api":      func(m *Manifest) { m.APIVersions = []string{"identity.v1"} },
	}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range bad {
		m := good
		m.Concerns = append([]string(nil), good.Concerns...)
		mutate(&m)
		if m.Validate() == nil {
			t.Errorf("%s: accepted %+v", name, m)
		}
	}
}

func TestManifestFileRoundTrip(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "shadow")
	m := Manifest{Schema: 1, Name: "shadow", Version: "1", Concerns: []string{"accounts"},
		APIVersions: []string{"identity.v1", "accounts.v1"}, Supports: identity.Supports{OSIDs: []string{"debian"}}}
	if err := WriteManifest(bin, m); err != nil {
		t.Fatal(err)
	}
	got, err := ReadManifest(bin)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(m)
	if !bytes.Equal(a, b) {
		t.Errorf("read %s, wrote %s", a, b)
	}
	if err := os.WriteFile(ManifestPath(bin), []byte(`{"schema":1,"nmae":"typo"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadManifest(bin); err == nil {
		t.Error("unknown field accepted")
	}
}

func TestDescribeAndUsage(t *testing.T) {
	started := false
	cfg := Config{Name: "tmux", Version: "1", Supports: identity.Supports{Generic: true}, Sessions: sessions.NewFake(),
		OnStart: func(hclog.Logger) { started = true }}
	out, errOut := tempFile(t), tempFile(t)
	if code := serve(cfg, []string{"describe"}, out, errOut); code != 0 {
		t.Fatalf("describe exited %d", code)
	}
	data, _ := os.ReadFile(out.Name())
	m, err := DecodeManifest(bytes.NewReader(data))
	if err != nil || m.Name != "tmux" {
		t.Fatalf("describe printed %s: %v", data, err)
	}
	if code := serve(cfg, []string{"serve-me"}, out, errOut); code != 2 {
		t.Errorf("unknown argument exited %d", code)
	}
	if code := serve(Config{Name: "empty", Version: "1"}, nil, out, errOut); code != 2 {
		t.Errorf("config without concerns exited %d", code)
	}
	if started {
		t.Error("OnStart ran for describe, or for a usage error")
	}
}

func tempFile(t *testing.T) *os.File {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestImportsStayInsideTheSDK keeps DESIGN.md §7: the sdk imports the
// standard library, go-plugin, gRPC, protobuf, hclog and x/sys only.
func TestImportsStayInsideTheSDK(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test", "./...").Output()
	if err != nil {
		// A build go list cannot load must fail here, not pass by
		// skipping: the rule is only as good as its worst day.
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/threefoldtech/hero_codescalers/"
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, mod) && !strings.HasPrefix(pkg, mod+"sdk") {
			t.Errorf("the sdk depends on %s", pkg)
		}
	}
}
