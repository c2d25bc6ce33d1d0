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

func TestQuotaNote(t *testing.T) {
	for _, c := range []struct {
		backend, version string
		full             bool
	}{
		{"tool", "btrfs-progs v6.2", true}, {"tool", "btrfs-progs v6.7", false}, {"tool", "btrfs-progs v7.0.1", false},
		{"tool", "garbage", true}, {"ioctl", "btrfs-progs v6.2", false},
	} {
		if got := strings.Contains(quotaNote(c.backend, c.version), "full qgroups"); got != c.full {
			t.Errorf("quotaNote(%s, %q) = %q", c.backend, c.version, quotaNote(c.backend, c.version))
		}
	}
}
