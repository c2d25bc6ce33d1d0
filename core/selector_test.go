package core

import (
	"maps"
	"testing"
)

func TestSelector(t *testing.T) {
	node := map[string]string{"zone": "eu", "role": "gpu", "ssd": ""}
	for sel, want := range map[string]bool{
		"": true, "zone=eu": true, "zone=us": false, "zone=eu,role=gpu": true, "zone=eu,role=cpu": false,
		"zone!=us": true, "zone!=eu": false, "rack!=r1": true, "ssd": true, "rack": false, "!rack": true, "!ssd": false,
		" zone=eu , role=gpu ": true,
	} {
		s, err := ParseSelector("nodes", sel)
		if err != nil {
			t.Errorf("%q: %v", sel, err)
			continue
		}
		if got := s.Matches(node); got != want {
			t.Errorf("%q matches %v: %v, want %v", sel, node, got, want)
		}
	}
	for _, bad := range []string{"zone=eu,,role=gpu", ",", "zone=", "=eu", "zone=eu,zone=us", "a b=c", "!", "zone!=", "z=é"} {
		if _, err := ParseSelector("nodes", bad); !IsCode(err, Invalid) {
			t.Errorf("%q: %v, want Invalid", bad, err)
		}
	}
	s, _ := ParseSelector("nodes", "role=gpu,zone=eu,!rack")
	if s.String() != "!rack,role=gpu,zone=eu" {
		t.Errorf("canonical form: %q", s.String())
	}
	if again, _ := ParseSelector("nodes", s.String()); again.String() != s.String() {
		t.Error("the canonical form does not parse back to itself")
	}
}

func TestApplyLabelEdits(t *testing.T) {
	got, err := ApplyLabelEdits("labels", map[string]string{"zone": "us", "old": "x"}, []string{"zone=eu", "old-", "gpu="})
	if err != nil || !maps.Equal(got, map[string]string{"zone": "eu", "gpu": ""}) {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range [][]string{nil, {"zone"}, {"bad key=1"}, {"-"}} {
		if _, err := ApplyLabelEdits("labels", nil, bad); !IsCode(err, Invalid) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
