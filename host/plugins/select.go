package plugins

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/threefoldtech/hero_codescalers/sdk"
)

// Pick is the plugin chosen for one concern, and why.
type Pick struct {
	Concern   string
	Candidate Candidate
	Why       string // "pinned", "os id debian", "os id_like rhel", "generic"
}

// The OS fit of a plugin, best first.
const (
	osNone = iota
	osGeneric
	osLike
	osExact
)

// score orders the candidates of one concern: a higher score wins.
type score struct {
	os      int
	config  bool // names settings the machine's configuration has (sshd's AuthorizedKeysFile)
	fs      bool // names the home root's fs type (a btrfs plugin on btrfs)
	native  bool // the built-in default of its concern (Native)
	version string
	order   int // dir position: lower wins
	name    string
}

// Select picks one plugin per concern, as a pure function of what is on
// disk, the platform and the operator's pins: the head of Rank's lists.
func Select(cands []Candidate, p Platform, pins map[string]string) (map[string]Pick, error) {
	ranked, err := Rank(cands, p, pins)
	picks := map[string]Pick{}
	for c, list := range ranked {
		picks[c] = list[0]
	}
	return picks, err
}

// Rank lists the eligible plugins of each concern, best first. A pin wins
// whatever the ranking and has no runner-up; otherwise an exact os-release
// ID beats an ID_LIKE match beats a generic plugin, then a plugin naming
// settings the machine's configuration has beats one that names none (so
// authorizedkeysd beats openssh where sshd reads
// /etc/ssh/authorized_keys.d/%u), then a plugin naming the home root's
// filesystem beats one that does not care (so btrfs beats a
// plain-directory plugin on btrfs), then the higher version, then the
// earlier plugin dir. A plugin whose manifest lists filesystem types that
// exclude the home root's, a path the machine lacks, or a setting its
// configuration does not have, is not eligible.
// The runners-up are what the manager falls back to when the best one's
// Probe says it is not ready here. Concerns nobody serves are absent;
// pins that name an unknown concern or a missing plugin are errors.
func Rank(cands []Candidate, p Platform, pins map[string]string) (map[string][]Pick, error) {
	ranked := map[string][]Pick{}
	errs := checkPins(cands, pins)
	for _, concern := range sdk.Concerns {
		if name, ok := pins[concern]; ok {
			if c, found := byName(cands, name); found && c.Manifest.Serves(concern) {
				ranked[concern] = []Pick{{Concern: concern, Candidate: c, Why: "pinned"}}
			}
			continue
		}
		type scored struct {
			pick  Pick
			score score
		}
		var list []scored
		for i := range cands {
			if s, why, ok := rank(&cands[i], concern, p); ok {
				list = append(list, scored{Pick{Concern: concern, Candidate: cands[i], Why: why}, s})
			}
		}
		slices.SortStableFunc(list, func(a, b scored) int {
			switch {
			case better(a.score, b.score):
				return -1
			case better(b.score, a.score):
				return 1
			}
			return 0
		})
		for _, sc := range list {
			ranked[concern] = append(ranked[concern], sc.pick)
		}
	}
	return ranked, errors.Join(errs...)
}

func checkPins(cands []Candidate, pins map[string]string) []error {
	var errs []error
	for _, concern := range sortedKeys(pins) {
		name := pins[concern]
		c, found := byName(cands, name)
		switch {
		case !slices.Contains(sdk.Concerns, concern):
			errs = append(errs, fmt.Errorf("plugin pin %s=%s: unknown concern (want one of %s)",
				concern, name, strings.Join(sdk.Concerns, ", ")))
		case !found:
			errs = append(errs, fmt.Errorf("plugin pin %s=%s: no plugin %q in the plugin dirs (found: %s)",
				concern, name, name, strings.Join(names(cands), ", ")))
		case !c.Manifest.Serves(concern):
			errs = append(errs, fmt.Errorf("plugin pin %s=%s: %s does not serve %s (it serves %s)",
				concern, name, name, concern, strings.Join(c.Manifest.Concerns, ", ")))
		}
	}
	return errs
}

// rank scores c for concern on p; ok is false when c does not serve the
// concern or does not fit the machine.
func rank(c *Candidate, concern string, p Platform) (score, string, bool) {
	m := c.Manifest
	if !m.Serves(concern) {
		return score{}, "", false
	}
	sup := m.Supports
	fsSpecific := len(sup.FSTypes) > 0
	if fsSpecific && !slices.ContainsFunc(sup.FSTypes, func(t string) bool { return fsMatches(t, p.FSType) }) {
		return score{}, "", false
	}
	for _, req := range sup.RequirePaths {
		if !p.exists(req) {
			return score{}, "", false
		}
	}
	for _, cm := range sup.Config {
		if !slices.Contains(p.setting(cm.File, cm.Key), cm.Value) {
			return score{}, "", false
		}
	}
	os, why := osFit(sup.OSIDs, sup.OSIDLikes, sup.Generic, p)
	if os == osNone {
		return score{}, "", false
	}
	for _, cm := range sup.Config {
		why += fmt.Sprintf(", %s %s %s", cm.File, cm.Key, cm.Value)
	}
	if fsSpecific {
		why += ", fs " + p.FSType
	}
	native := Native[concern] == m.Name
	return score{os: os, config: len(sup.Config) > 0, fs: fsSpecific, native: native, version: m.Version, order: c.order, name: m.Name}, why, true
}

// Native names, per concern, the built-in plugin that wins a tie of OS
// and filesystem fit: the files plugin edits the account files itself, in
// one locked rewrite, where the shadow plugin forks useradd (more than
// half a create's time). Both fit a Debian; where files cannot honour a
// setting (a USERDEL_CMD script, say) its Probe says so and the host falls
// back to shadow, logged and shown by plugin-list. A pin overrides both.
var Native = map[string]string{"accounts": "files"}

// osFit says how well a plugin's os-release matchers fit p. A plugin that
// names no distribution at all (only filesystems, say) is generic.
func osFit(ids, likes []string, generic bool, p Platform) (int, string) {
	if slices.Contains(ids, p.ID) {
		return osExact, "os id " + p.ID
	}
	machine := append([]string{p.ID}, p.IDLike...)
	for _, want := range append(slices.Clone(ids), likes...) {
		if slices.Contains(machine, want) {
			return osLike, "os id_like " + want
		}
	}
	if generic || len(ids)+len(likes) == 0 {
		return osGeneric, "generic"
	}
	return osNone, ""
}

func better(a, b score) bool {
	if a.os != b.os {
		return a.os > b.os
	}
	if a.config != b.config {
		return a.config
	}
	if a.fs != b.fs {
		return a.fs
	}
	if a.native != b.native {
		return a.native
	}
	if c := CompareVersions(a.version, b.version); c != 0 {
		return c > 0
	}
	if a.order != b.order {
		return a.order < b.order
	}
	return a.name < b.name
}

// CompareVersions compares two semver-like versions ("1.10.0" > "1.9",
// "1.0.0" > "1.0.0-rc1", a leading "v" and "+build" ignored): -1, 0 or 1.
// Parts that are not numbers compare as strings, so any version string
// still orders deterministically.
func CompareVersions(a, b string) int {
	ca, pa := splitVersion(a)
	cb, pb := splitVersion(b)
	if c := compareParts(ca, cb); c != 0 {
		return c
	}
	switch {
	case pa == nil && pb == nil:
		return 0
	case pa == nil:
		return 1 // a release beats its pre-releases
	case pb == nil:
		return -1
	}
	return compareParts(pa, pb)
}

func splitVersion(v string) (core, pre []string) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	v, _, _ = strings.Cut(v, "+")
	c, p, hasPre := strings.Cut(v, "-")
	core = strings.Split(c, ".")
	if hasPre {
		pre = strings.Split(p, ".")
	}
	return core, pre
}

func compareParts(a, b []string) int {
	for i := 0; i < max(len(a), len(b)); i++ {
		x, y := "0", "0"
		if i < len(a) && a[i] != "" {
			x = a[i]
		}
		if i < len(b) && b[i] != "" {
			y = b[i]
		}
		nx, errx := strconv.ParseUint(x, 10, 64)
		ny, erry := strconv.ParseUint(y, 10, 64)
		switch {
		case errx == nil && erry == nil && nx != ny:
			if nx > ny {
				return 1
			}
			return -1
		case (errx == nil) != (erry == nil):
			if errx == nil {
				return -1 // numeric identifiers sort before words, as in semver
			}
			return 1
		case errx != nil && x != y:
			return strings.Compare(x, y)
		}
	}
	return 0
}

func byName(cands []Candidate, name string) (Candidate, bool) {
	for _, c := range cands {
		if c.Name() == name {
			return c, true
		}
	}
	return Candidate{}, false
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ParsePins reads `--plugin concern=name` flags into a pin map.
func ParsePins(flags []string) (map[string]string, error) {
	pins := map[string]string{}
	for _, f := range flags {
		concern, name, ok := strings.Cut(f, "=")
		concern, name = strings.TrimSpace(concern), strings.TrimSpace(name)
		if !ok || concern == "" || name == "" {
			return nil, fmt.Errorf("--plugin %q: want concern=name, e.g. accounts=shadow", f)
		}
		if !slices.Contains(sdk.Concerns, concern) {
			return nil, fmt.Errorf("--plugin %q: unknown concern %q (want one of %s)", f, concern, strings.Join(sdk.Concerns, ", "))
		}
		if prev, dup := pins[concern]; dup && prev != name {
			return nil, fmt.Errorf("--plugin: %s pinned twice (%s and %s)", concern, prev, name)
		}
		pins[concern] = name
	}
	return pins, nil
}

// warnDeprecated logs, once per plugin, each concern it serves through an
// older contract version, which the host runs through an adapter for one
// release only.
func warnDeprecated(log *slog.Logger, p *proc) {
	var old []string
	for _, c := range p.concerns {
		d, _ := sdk.Lookup(c)
		if api, ok := d.Speaks(p.apis); ok && d.Deprecated(api) {
			old = append(old, fmt.Sprintf("%s (current: %s)", api, d.API))
		}
	}
	if len(old) > 0 {
		log.Warn("plugin speaks a deprecated contract: it runs through the host's adapter for one release; rebuild it against the current sdk",
			"plugin", p.name, "path", p.path, "deprecated", strings.Join(old, ", "))
	}
}
