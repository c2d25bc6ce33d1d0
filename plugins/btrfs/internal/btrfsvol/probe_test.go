package btrfsvol

import (
	"context"
	"strings"
	"testing"
)

func TestProbe(t *testing.T) {
	if _, err := ForName("zfs"); err == nil {
		t.Error("ForName accepted an unknown backend")
	}
	_, berr := ForName("zfs")
	if res := Probe(Ioctl{}, berr)(context.Background()); res.Ready || !strings.Contains(res.Reason, "zfs") {
		t.Errorf("probe with a bad backend: %+v", res)
	}
	for _, name := range []string{"", "ioctl", "tool"} {
		if b, err := ForName(name); err != nil || b == nil {
			t.Errorf("ForName(%q): %v", name, err)
		}
	}
}
