package sshkeys_test

import (
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

// A real key and the fingerprint `ssh-keygen -lf` prints for it.
const (
	realKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop"
	realFP  = "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU" // ssh-keygen -lf
)

func TestParseAuthorizedKey(t *testing.T) {
	k, err := sshkeys.ParseAuthorizedKey(`no-pty,from="10.0.0.0/8, 192.168.0.0/16" ` + realKey)
	if err != nil {
		t.Fatal(err)
	}
	if k.Type != "ssh-ed25519" || k.Comment != "alice@laptop" || k.Options != `no-pty,from="10.0.0.0/8, 192.168.0.0/16"` {
		t.Errorf("parsed %+v", k)
	}
	if k.Fingerprint != realFP {
		t.Errorf("fingerprint %s, want %s", k.Fingerprint, realFP)
	}
	for _, bad := range []string{"", "ssh-ed25519", "ssh-ed25519 !!!", "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
		realKey + "\n" + realKey, "hello world"} {
		if _, err := sshkeys.ParseAuthorizedKey(bad); !sdkerr.Is(err, sdkerr.InvalidArgument) {
			t.Errorf("ParseAuthorizedKey(%q): %v", bad, err)
		}
	}
}
