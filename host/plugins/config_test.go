package plugins_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/threefoldtech/hero_codescalers/host/plugins"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
)

// keysd asks for sshd's AuthorizedKeysFile naming the authorized_keys.d
// layout, as the authorizedkeysd plugin's manifest does.
var keysd = identity.ConfigMatch{File: "/etc/ssh/sshd_config", Key: "AuthorizedKeysFile", Value: "/etc/ssh/authorized_keys.d/%u"}

// TestSelectBySSHDConfig: a plugin naming a setting the machine has beats a
// generic one; where the setting is absent it does not fit at all.
func TestSelectBySSHDConfig(t *testing.T) {
	ssh := []string{"sshkeys"}
	openssh := cand("openssh", "1.0.0", ssh, generic)
	authd := cand("authorizedkeysd", "0.1.0", ssh, identity.Supports{Generic: true, Config: []identity.ConfigMatch{keysd}})
	with := func(vals ...string) plugins.Platform {
		p := debian
		p.Setting = func(file, key string) []string {
			if file == keysd.File && key == keysd.Key {
				return vals
			}
			return nil
		}
		return p
	}
	cands := []plugins.Candidate{openssh, authd}
	picks, err := plugins.Select(cands, with(".ssh/authorized_keys", "/etc/ssh/authorized_keys.d/%u"), nil)
	if err != nil || picks["sshkeys"].Candidate.Name() != "authorizedkeysd" {
		t.Fatalf("sshd reads authorized_keys.d: picked %+v %v", picks["sshkeys"], err)
	}
	if why := picks["sshkeys"].Why; why != "generic, /etc/ssh/sshd_config AuthorizedKeysFile /etc/ssh/authorized_keys.d/%u" {
		t.Errorf("why %q", why)
	}
	if picks, _ := plugins.Select(cands, with(".ssh/authorized_keys"), nil); picks["sshkeys"].Candidate.Name() != "openssh" {
		t.Errorf("sshd reads ~/.ssh only: picked %s", picks["sshkeys"].Candidate.Name())
	}
	if picks, _ := plugins.Select(cands, with(), map[string]string{"sshkeys": "authorizedkeysd"}); picks["sshkeys"].Candidate.Name() != "authorizedkeysd" {
		t.Errorf("a pin: picked %s", picks["sshkeys"].Candidate.Name())
	}
}

// TestConfigValues reads sshd_config as sshd does: Include in place, the
// first value wins, keywords in any case, "=" and quotes, nothing after
// Match.
func TestConfigValues(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("a.conf", "# drop-in\nauthorizedkeysfile \"/etc/ssh/authorized_keys.d/%u\" .ssh/authorized_keys\n")
	main := write("sshd_config", "Include "+filepath.Join(dir, "*.conf")+"\nAuthorizedKeysFile .ssh/authorized_keys\nPort 22\n")
	if got := plugins.ConfigValues(main, "AuthorizedKeysFile"); !slices.Equal(got, []string{"/etc/ssh/authorized_keys.d/%u", ".ssh/authorized_keys"}) {
		t.Errorf("through Include: %q", got)
	}
	late := write("late_config", "PasswordAuthentication=no # trailing\nMatch User bob\n  AuthorizedKeysFile /bob\n")
	if got := plugins.ConfigValues(late, "PasswordAuthentication"); !slices.Equal(got, []string{"no"}) {
		t.Errorf("with '=' and a comment: %q", got)
	}
	if got := plugins.ConfigValues(late, "AuthorizedKeysFile"); got != nil {
		t.Errorf("inside Match: %q", got)
	}
	if got := plugins.ConfigValues(filepath.Join(dir, "missing"), "Port"); got != nil {
		t.Errorf("missing file: %q", got)
	}
}
