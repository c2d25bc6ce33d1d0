package acl_test

import (
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/acl"
)

func TestNormalizePerms(t *testing.T) {
	for in, want := range map[string]string{"": "---", "xr": "r-x", "rwx": "rwx", "-w-": "-w-"} {
		if got := acl.NormalizePerms(in); got != want {
			t.Errorf("NormalizePerms(%q) = %q, want %q", in, got, want)
		}
	}
}
