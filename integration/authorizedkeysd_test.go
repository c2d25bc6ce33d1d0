//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
	"github.com/threefoldtech/hero_codescalers/sdk/plugintest"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

// keysDir is the layout sshd reads with AuthorizedKeysFile keysDir/%u.
const keysDir = "/etc/ssh/authorized_keys.d"

// TestAuthorizedKeysDPlugin: the second sshkeys bundle passes the kit,
// its host-level step included — the kit grants the root its manifest
// names inside its sandbox and finds nothing of a deleted user there.
func TestAuthorizedKeysDPlugin(t *testing.T) {
	sandbox.Require(t)
	rep := plugintest.Run(t, buildPlugin(t, "authorizedkeysd"), plugintest.Options{ScratchDir: aclScratch(t), Destructive: true, Env: aclEnv})
	if r, ok := rep.Result("lifecycle/sshkeys"); !ok || r.Status != plugintest.Pass {
		t.Errorf("lifecycle/sshkeys: %+v", r)
	}
}

// authorizedKeysDMachine makes the sandbox a machine whose sshd reads
// keysDir/%u and whose policy gives the sshkeys concern that root, as an
// admin sets it up (both restored at cleanup).
func authorizedKeysDMachine(t *testing.T) {
	t.Helper()
	sandboxPolicy(t, func(p *policy.Policy) { p.Roots = map[string][]string{"sshkeys": {keysDir}} })
	const cfg = "/etc/ssh/sshd_config"
	old, err := os.ReadFile(cfg)
	t.Cleanup(func() {
		if err == nil {
			os.WriteFile(cfg, old, 0o644)
		} else {
			os.Remove(cfg)
		}
		os.RemoveAll(keysDir)
	})
	os.MkdirAll("/etc/ssh", 0o755)
	if err := os.WriteFile(cfg, append([]byte("AuthorizedKeysFile "+keysDir+"/%u\n"), old...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAuthorizedKeysDWithSSHD is issue 13's proof of the second bundle on
// a real host and a real sshd configured AuthorizedKeysFile
// /etc/ssh/authorized_keys.d/%u: the host chooses authorizedkeysd by its
// manifest (no pin), a user's key is in keysDir/<user> (root's, 0644; not
// in the home) and logs it in, user-get lists it as installed, the
// delete removes the file, and a user re-created under the name has no
// key and cannot log in with the old one.
func TestAuthorizedKeysDWithSSHD(t *testing.T) {
	sandbox.Require(t)
	ensureDriver(t)
	quotasOn(t)
	authorizedKeysDMachine(t)
	h := newHost(t, buildTree(t, ""))
	h.start()
	chosenFor(t, h, "sshkeys", "authorizedkeysd", "AuthorizedKeysFile")
	priv, pub := clientKey(t)
	port, logs := startSSHD(t, sshdOptions{AuthorizedKeysFile: keysDir + "/%u"})
	login := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "ssh", append(sshArgs(priv, port), "alice@127.0.0.1", "id", "-un")...).CombinedOutput()
		if err == nil && strings.TrimSpace(string(out)) != "alice" {
			err = fmt.Errorf("output %q", out)
		}
		return err
	}

	h.mustCLI("user-create", "alice", "--ssh-key-file", pub)
	file := keysDir + "/alice"
	var st unix.Stat_t
	if err := unix.Lstat(file, &st); err != nil || st.Uid != 0 || st.Mode != unix.S_IFREG|0o644 {
		t.Fatalf("%s: %+v %v", file, st, err)
	}
	if _, err := os.Lstat("/home/alice/.ssh/authorized_keys"); !os.IsNotExist(err) {
		t.Errorf("a key file in the home too: %v", err)
	}
	if err := login(); err != nil {
		t.Fatalf("key login: %v\nsshd:\n%s", err, logs)
	}
	raw, _ := os.ReadFile(pub)
	key, _ := sshkeys.ParseAuthorizedKey(string(raw))
	if got := installed(t, h, "alice"); !slices.Equal(got, []string{key.Fingerprint}) {
		t.Errorf("user-get installed %v, want %s", got, key.Fingerprint)
	}

	h.mustCLI("user-delete", "alice")
	if _, err := os.Lstat(file); !os.IsNotExist(err) {
		t.Fatalf("%s survived the delete: %v", file, err)
	}
	h.mustCLI("user-create", "alice")
	if _, err := os.Lstat(file); !os.IsNotExist(err) {
		t.Errorf("the re-created alice has a key file: %v", err)
	}
	if got := installed(t, h, "alice"); len(got) != 0 {
		t.Errorf("the re-created alice has keys %v", got)
	}
	if err := login(); err == nil {
		t.Fatalf("the re-created alice logs in with the old key\nsshd:\n%s", logs)
	}
	h.mustCLI("user-delete", "alice")
}

// chosenFor checks which plugin the host chose for a concern, and why.
func chosenFor(t *testing.T, h *hostUnderTest, concern, name, why string) {
	t.Helper()
	var pl api.PluginListResult
	if err := json.Unmarshal([]byte(h.mustCLI("--json", "plugin-list")), &pl); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(pl.Plugins, func(p core.PluginInfo) bool { return p.Concern == concern })
	if i < 0 || pl.Plugins[i].Name != name || !strings.Contains(pl.Plugins[i].Why, why) || pl.Plugins[i].State != core.PluginReady {
		t.Fatalf("%s: %+v, want %s chosen for %q", concern, pl.Plugins, name, why)
	}
}

// installed is what user-get says the sshkeys plugin has of the user.
func installed(t *testing.T, h *hostUnderTest, name string) []string {
	t.Helper()
	var u core.User
	if err := json.Unmarshal([]byte(h.mustCLI("--json", "user-get", name)), &u); err != nil {
		t.Fatal(err)
	}
	if u.Installed == nil || u.Installed.Error != "" {
		t.Fatalf("user-get %s: installed %+v", name, u.Installed)
	}
	return u.Installed.Keys
}
