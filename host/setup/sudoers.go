package setup

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/threefoldtech/hero_codescalers/host/plugins"
)

// EnvKeep lists what sudo must keep for go-plugin to work through it:
// PLUGIN_* carries the handshake settings (protocol versions, port range),
// AutoMTLS's client certificate (PLUGIN_CLIENT_CERT) and the Unix socket
// dir and group; HERO_CODESCALERS_PLUGIN is the sdk's magic cookie and
// HERO_CODESCALERS_PLUGIN_* the sdk's own settings (log level).
const EnvKeep = "PLUGIN_* HERO_CODESCALERS_PLUGIN HERO_CODESCALERS_PLUGIN_*"

// execInPlace are the Defaults that make sudo exec the plugin itself
// instead of forking and waiting beside it (sudo 1.9 forks for a pty or a
// PAM session). The plugin is then the host's own child: its parent-death
// watchdog fires when the host dies, and the pid the host sees is the
// plugin's.
const execInPlace = "!use_pty, !pam_session, !pam_setcred"

// safePath is what a command path may hold unescaped in sudoers.
var safePath = regexp.MustCompile(`^/[A-Za-z0-9/._+-]+$`)

// rule is one plugin's line in the sudoers file.
type rule struct {
	Path, SHA256, Name, Version string
	Concerns                    []string
}

// collectRules finds the plugins and hashes each.
func collectRules(opts Options) ([]rule, error) {
	cands, refused := plugins.Discover(opts.Dirs, opts.Logger)
	for _, r := range refused {
		fmt.Fprintf(opts.Out, "skipped %s: %s\n", r.Path, r.Reason)
	}
	var rules []rule
	for _, c := range cands {
		if !safePath.MatchString(c.Path) {
			return nil, fmt.Errorf("setup: plugin path %q has characters sudoers would need escaped; move it", c.Path)
		}
		sum, err := digest(c.Path)
		if err != nil {
			return nil, err
		}
		rules = append(rules, rule{Path: c.Path, SHA256: sum, Name: c.Name(),
			Version: c.Manifest.Version, Concerns: c.Manifest.Concerns})
	}
	return rules, nil
}

func digest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("setup: hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// renderSudoers is the drop-in: per plugin, the Defaults that keep
// go-plugin's environment and exec in place, and the rule itself, pinned
// by sudo's Digest_Spec (`sha256:` and the hex digest) and allowing no
// arguments (`""`).
func renderSudoers(user string, rules []rule) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `# Written by "hero_codescalers setup driver"; do not edit, run it again.
#
# Lets the unprivileged host (user %s) start each plugin as root. Each
# rule pins the plugin binary by its sha256 digest, so sudo refuses a
# changed binary: run "hero_codescalers setup driver" again after an upgrade
# (and approve the new plugins with "hero_codescalers plugin-approve").
# The built-in plugins are hard links of one binary: their rules pin the
# same digest, each at its own path, which names the plugin it runs as.
`, user)
	for _, r := range rules {
		fmt.Fprintf(&b, "\n# %s %s (%s)\n", r.Name, r.Version, strings.Join(r.Concerns, ", "))
		fmt.Fprintf(&b, "Defaults!%s %s, env_keep += \"%s\"\n", r.Path, execInPlace, EnvKeep)
		fmt.Fprintf(&b, "%s ALL=(root) NOPASSWD: sha256:%s %s \"\"\n", user, r.SHA256, r.Path)
	}
	return b.Bytes()
}

// writeSudoers replaces the drop-in with content unless it already holds
// it: a temp file beside it (its dot keeps sudo from reading it), mode
// 0440, checked by visudo, renamed into place.
func writeSudoers(opts Options, path string, content []byte) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, content) {
		return false, nil
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(dir, ".hero_codescalers-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	if err := writeSynced(tmp, content); err != nil {
		return false, err
	}
	if out, err := opts.Run("visudo", "-c", "-q", "-f", tmp.Name()); err != nil {
		return false, fmt.Errorf("setup: visudo rejected the sudoers file: %v: %s", err, strings.TrimSpace(string(out)))
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return false, err
	}
	return true, nil
}

func writeSynced(f *os.File, content []byte) error {
	_, err := f.Write(content)
	if err == nil {
		err = f.Chmod(0o440)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// checkSudo warns about what would keep the rules from working.
func checkSudo(opts Options) []string {
	var warns []string
	if _, err := exec.LookPath("sudo"); err != nil && opts.Root == "/" {
		warns = append(warns, "sudo is not installed; the unprivileged host needs it")
	}
	main, err := os.ReadFile(filepath.Join(opts.Root, "etc/sudoers"))
	if err == nil && !regexp.MustCompile(`(?m)^[#@]includedir\s+/etc/sudoers\.d\s*$`).Match(main) {
		warns = append(warns, "/etc/sudoers does not include /etc/sudoers.d; add \"@includedir /etc/sudoers.d\"")
	}
	return warns
}
