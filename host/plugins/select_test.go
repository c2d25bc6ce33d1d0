package plugins_test

import (
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/host/plugins"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
)

// cand builds a candidate for selection tests: name, version, the concerns
// it serves and where it fits.
func cand(name, version string, concerns []string, sup identity.Supports) plugins.Candidate {
	apis := []string{identity.APIVersion}
	for _, c := range concerns {
		d, _ := sdk.Lookup(c)
		apis = append(apis, d.API)
	}
	return plugins.Candidate{Path: "/p/" + name, Manifest: sdk.Manifest{Schema: sdk.ManifestSchema,
		Name: name, Version: version, Concerns: concerns, APIVersions: apis, Supports: sup}}
}

var (
	acc = []string{"accounts"}
	vol = []string{"volumes"}

	debian  = plugins.Platform{ID: "debian", VersionID: "12", FSType: "ext4"}
	ubuntu  = plugins.Platform{ID: "ubuntu", IDLike: []string{"debian"}, FSType: "btrfs"}
	rocky   = plugins.Platform{ID: "rocky", IDLike: []string{"rhel", "centos", "fedora"}, FSType: "xfs"}
	alpine  = plugins.Platform{ID: "alpine", FSType: "ext4"}
	generic = identity.Supports{Generic: true}
)

func TestSelect(t *testing.T) {
	shadow := cand("shadow", "1.0.0", acc, identity.Supports{OSIDs: []string{"debian", "ubuntu", "fedora", "arch"}})
	files := cand("files", "1.0.0", acc, generic)
	btrfs := cand("btrfs", "1.0.0", vol, identity.Supports{FSTypes: []string{"btrfs"}})
	dir := cand("dir", "1.0.0", vol, generic)
	dirExt := cand("dirext", "1.0.0", vol, identity.Supports{FSTypes: []string{"ext4", "xfs"}, Generic: true})
	rhel := cand("rhelacc", "0.1.0", acc, identity.Supports{OSIDLikes: []string{"rhel"}})
	newer := cand("files2", "1.10.0", acc, generic)
	older := cand("files1", "1.9.0", acc, generic)
	ext3 := cand("ext3only", "1.0.0", vol, identity.Supports{FSTypes: []string{"ext3"}})

	tests := []struct {
		name  string
		cands []plugins.Candidate
		plat  plugins.Platform
		pins  map[string]string
		want  map[string]string // concern → plugin; absent concerns have none
		why   map[string]string
	}{
		{"exact id beats generic", []plugins.Candidate{files, shadow}, debian, nil,
			map[string]string{"accounts": "shadow"}, map[string]string{"accounts": "os id debian"}},
		{"generic where no id matches", []plugins.Candidate{files, shadow}, alpine, nil,
			map[string]string{"accounts": "files"}, map[string]string{"accounts": "generic"}},
		{"an os_ids entry matching ID_LIKE counts as like", []plugins.Candidate{files, shadow}, plugins.Platform{ID: "linuxmint", IDLike: []string{"ubuntu", "debian"}, FSType: "ext4"}, nil,
			map[string]string{"accounts": "shadow"}, map[string]string{"accounts": "os id_like debian"}},
		{"id_like beats generic", []plugins.Candidate{files, rhel}, rocky, nil,
			map[string]string{"accounts": "rhelacc"}, map[string]string{"accounts": "os id_like rhel"}},
		{"exact id beats id_like", []plugins.Candidate{rhel, shadow}, ubuntu, nil,
			map[string]string{"accounts": "shadow"}, nil},
		{"an os-restricted plugin does not fit elsewhere", []plugins.Candidate{rhel}, debian, nil,
			map[string]string{}, nil},
		{"fs restriction excludes", []plugins.Candidate{btrfs}, debian, nil,
			map[string]string{}, nil},
		{"fs-specific beats fs-agnostic", []plugins.Candidate{dir, btrfs}, ubuntu, nil,
			map[string]string{"volumes": "btrfs"}, map[string]string{"volumes": "generic, fs btrfs"}},
		{"fs-agnostic where fs-specific does not fit", []plugins.Candidate{dir, btrfs}, debian, nil,
			map[string]string{"volumes": "dir"}, nil},
		{"listing the fs beats not caring", []plugins.Candidate{dir, dirExt}, rocky, nil,
			map[string]string{"volumes": "dirext"}, nil},
		{"ext3 in a manifest is ext4 to statfs", []plugins.Candidate{ext3}, debian, nil,
			map[string]string{"volumes": "ext3only"}, nil},
		{"higher version wins a tie (numerically)", []plugins.Candidate{older, newer}, alpine, nil,
			map[string]string{"accounts": "files2"}, nil},
		{"pin beats ranking", []plugins.Candidate{files, shadow}, debian, map[string]string{"accounts": "files"},
			map[string]string{"accounts": "files"}, map[string]string{"accounts": "pinned"}},
		{"pin beats fitness", []plugins.Candidate{btrfs, dir}, debian, map[string]string{"volumes": "btrfs"},
			map[string]string{"volumes": "btrfs"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			picks, err := plugins.Select(tt.cands, tt.plat, tt.pins)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for c, p := range picks {
				got[c] = p.Candidate.Name()
				if w, ok := tt.why[c]; ok && p.Why != w {
					t.Errorf("%s why = %q, want %q", c, p.Why, w)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for c, w := range tt.want {
				if got[c] != w {
					t.Errorf("%s = %q, want %q", c, got[c], w)
				}
			}
		})
	}
}

func TestSelectTieGoesToEarlierDirThenName(t *testing.T) {
	a := cand("aaa", "1.0.0", acc, generic)
	b := cand("bbb", "1.0.0", acc, generic)
	picks, err := plugins.Select([]plugins.Candidate{b, a}, alpine, nil)
	if err != nil || picks["accounts"].Candidate.Name() != "aaa" {
		t.Fatalf("%v %v", picks, err)
	}
}

func TestSelectPinErrors(t *testing.T) {
	files := cand("files", "1.0.0", acc, generic)
	tests := []struct {
		pins map[string]string
		want string
	}{
		{map[string]string{"accounts": "shadow"}, `no plugin "shadow" in the plugin dirs (found: files)`},
		{map[string]string{"volumes": "files"}, "files does not serve volumes"},
		{map[string]string{"printers": "files"}, "unknown concern"},
	}
	for _, tt := range tests {
		_, err := plugins.Select([]plugins.Candidate{files}, debian, tt.pins)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want %q", tt.pins, err, tt.want)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0.0", "1.0.0", 0},
		{"1.10.0", "1.9.9", 1},
		{"1.2", "1.2.0", 0},
		{"v2.0.0", "1.99", 1},
		{"1.0.0", "1.0.0-rc1", 1},
		{"1.0.0-rc2", "1.0.0-rc10", 1}, // words compare as strings
		{"1.0.0-1", "1.0.0-alpha", -1},
		{"1.0.0+build5", "1.0.0", 0},
		{"0.9", "0.10", -1},
		{"", "0.0.1", -1},
	}
	for _, tt := range tests {
		if got := plugins.CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := plugins.CompareVersions(tt.b, tt.a); got != -tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

func TestParsePins(t *testing.T) {
	pins, err := plugins.ParsePins([]string{"accounts=shadow", " volumes = btrfs "})
	if err != nil || pins["accounts"] != "shadow" || pins["volumes"] != "btrfs" {
		t.Fatalf("%v %v", pins, err)
	}
	for _, bad := range [][]string{{"accounts"}, {"=shadow"}, {"printers=x"}, {"acl=a", "acl=b"}} {
		if _, err := plugins.ParsePins(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestSelectNativeAccounts: where the files plugin fits as well as shadow
// (both name Debian), the native one is the default, whatever the versions;
// a pin still chooses shadow, and shadow is files' runner-up.
func TestSelectNativeAccounts(t *testing.T) {
	debs := []string{"debian", "ubuntu"}
	shadow := cand("shadow", "2.0.0", acc, identity.Supports{OSIDs: debs})
	files := cand("files", "1.0.0", acc, identity.Supports{OSIDs: debs, Generic: true})
	ranked, err := plugins.Rank([]plugins.Candidate{shadow, files}, debian, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ranked["accounts"]; len(got) != 2 || got[0].Candidate.Name() != "files" || got[1].Candidate.Name() != "shadow" {
		t.Fatalf("accounts ranking = %+v, want files then shadow", got)
	}
	picks, err := plugins.Select([]plugins.Candidate{shadow, files}, debian, map[string]string{"accounts": "shadow"})
	if err != nil || picks["accounts"].Candidate.Name() != "shadow" {
		t.Fatalf("pinned shadow: %+v, %v", picks["accounts"], err)
	}
}
