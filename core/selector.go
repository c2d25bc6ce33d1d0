package core

import (
	"maps"
	"slices"
	"strings"
)

// Selector picks nodes by their labels: the placement of a fleet user. It
// is a comma-separated list of requirements that must all hold, as
// Kubernetes' equality-based selectors read: "zone=eu" (the label has that
// value), "zone!=eu" (it has not: absent or another value), "gpu" (the
// label is set), "!gpu" (it is not). The empty selector selects every
// node.
type Selector struct {
	reqs []requirement
}

type requirement struct {
	key, value string
	op         selectorOp
}

type selectorOp int

const (
	opEq selectorOp = iota
	opNe
	opHas
	opLacks
)

// ParseSelector parses a selector; field names the input in an error.
// Keys and values have the shape of node labels (ValidateLabels), and a
// key may appear only once, so a selector never contradicts itself
// silently.
func ParseSelector(field, s string) (Selector, error) {
	var sel Selector
	s = strings.TrimSpace(s)
	if s == "" {
		return sel, nil
	}
	if len(s) > 1024 {
		return sel, InvalidField(field, "at most 1024 characters")
	}
	seen := map[string]bool{}
	for part := range strings.SplitSeq(s, ",") {
		r, err := parseRequirement(field, strings.TrimSpace(part))
		if err != nil {
			return Selector{}, err
		}
		if seen[r.key] {
			return Selector{}, InvalidField(field, "label %q appears twice", r.key)
		}
		seen[r.key] = true
		sel.reqs = append(sel.reqs, r)
	}
	slices.SortFunc(sel.reqs, func(a, b requirement) int { return strings.Compare(a.key, b.key) })
	return sel, nil
}

func parseRequirement(field, p string) (requirement, error) {
	var r requirement
	switch {
	case p == "":
		return r, InvalidField(field, "has an empty requirement (two commas, or one at an end)")
	case strings.Contains(p, "!="):
		k, v, _ := strings.Cut(p, "!=")
		r = requirement{key: k, value: v, op: opNe}
	case strings.Contains(p, "="):
		k, v, _ := strings.Cut(p, "=")
		r = requirement{key: k, value: v, op: opEq}
	case strings.HasPrefix(p, "!"):
		r = requirement{key: p[1:], op: opLacks}
	default:
		r = requirement{key: p, op: opHas}
	}
	if !labelRE.MatchString(r.key) {
		return r, InvalidField(field, "label key %q must be 1-63 of A-Z a-z 0-9 . _ / -", r.key)
	}
	if (r.op == opEq || r.op == opNe) && !labelRE.MatchString(r.value) {
		return r, InvalidField(field, "label %q: value %q must be 1-63 of A-Z a-z 0-9 . _ / -", r.key, r.value)
	}
	return r, nil
}

// Matches reports whether labels satisfy every requirement.
func (s Selector) Matches(labels map[string]string) bool {
	for _, r := range s.reqs {
		v, ok := labels[r.key]
		switch r.op {
		case opEq:
			if !ok || v != r.value {
				return false
			}
		case opNe:
			if ok && v == r.value {
				return false
			}
		case opHas:
			if !ok {
				return false
			}
		case opLacks:
			if ok {
				return false
			}
		}
	}
	return true
}

// Empty reports whether the selector selects every node.
func (s Selector) Empty() bool { return len(s.reqs) == 0 }

// String is the selector's canonical text (requirements in key order), the
// form stored in the desired state.
func (s Selector) String() string {
	parts := make([]string, len(s.reqs))
	for i, r := range s.reqs {
		switch r.op {
		case opEq:
			parts[i] = r.key + "=" + r.value
		case opNe:
			parts[i] = r.key + "!=" + r.value
		case opHas:
			parts[i] = r.key
		case opLacks:
			parts[i] = "!" + r.key
		}
	}
	return strings.Join(parts, ",")
}

// ApplyLabelEdits applies node-label's edits to labels: "k=v" sets a label
// and "k-" removes one. The result is a new map; labels is not changed.
func ApplyLabelEdits(field string, labels map[string]string, edits []string) (map[string]string, error) {
	out := maps.Clone(labels)
	if out == nil {
		out = map[string]string{}
	}
	if len(edits) == 0 {
		return nil, InvalidField(field, "give at least one edit: KEY=VALUE sets a label, KEY- removes it")
	}
	for _, e := range edits {
		if k, v, ok := strings.Cut(e, "="); ok {
			out[k] = v
			if err := ValidateLabels(field, map[string]string{k: v}); err != nil {
				return nil, err
			}
			continue
		}
		k, ok := strings.CutSuffix(e, "-")
		if !ok || !labelRE.MatchString(k) {
			return nil, InvalidField(field, "%q is neither KEY=VALUE (set) nor KEY- (remove)", e)
		}
		delete(out, k)
	}
	return out, ValidateLabels(field, out)
}
