package plugins

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"google.golang.org/grpc"
)

// Mode is how the host starts plugins.
type Mode int

const (
	// ModeAuto execs plugins directly when the host is root and through
	// sudo otherwise.
	ModeAuto Mode = iota
	// ModeDirect execs the plugin binary itself, pinned by go-plugin's
	// SecureConfig. Tests use it without root, for plugins that need none.
	ModeDirect
	// ModeSudo runs `sudo -n -- <plugin>`, pinned by the sha256 digest of
	// the sudoers rule `hero_codescalers setup driver` writes.
	ModeSudo
)

func (m Mode) String() string {
	switch m {
	case ModeDirect:
		return "direct"
	case ModeSudo:
		return "sudo"
	}
	return "auto"
}

// resolve turns ModeAuto into the mode for this process.
func (m Mode) resolve() Mode {
	if m != ModeAuto {
		return m
	}
	if os.Geteuid() == 0 {
		return ModeDirect
	}
	return ModeSudo
}

// launch is everything needed to start one plugin process.
type launch struct {
	path     string
	apis     []string // the API versions of the manifest the plugin was chosen by
	sha      string   // hex; pins the binary on the direct path
	mode     Mode     // resolved
	sudo     string   // absolute path of sudo
	group    string   // the host's primary group, for the plugin's socket
	env      []string
	timeout  time.Duration
	autoMTLS bool
	logger   *hclogger
	stderr   *tailBuffer
	dial     []grpc.DialOption
}

// clientConfig builds go-plugin's config for one start.
//
// Direct (root): the binary is exec'd itself, SecureConfig re-hashes it
// against the locked digest right before the exec, AutoMTLS makes the
// socket usable only by this host, and Pdeathsig kills it with the host.
//
// Sudo (unprivileged host): `sudo -n -- PATH`. SecureConfig would hash
// sudo, so it is left out: the sha256 Digest_Spec of the sudoers rule pins
// the plugin, checked by sudo itself. sudo keeps only the variables the
// rule's env_keep lists, which is why the rule keeps PLUGIN_* (go-plugin's
// handshake settings, AutoMTLS's PLUGIN_CLIENT_CERT, the socket group) and
// the magic cookie. The root plugin makes its socket group-owned by the
// host's primary group (UnixSocketConfig.Group) so the host can connect.
// The kernel clears Pdeathsig across sudo's setuid exec; the rule's
// !pam_session, !pam_setcred and !use_pty let sudo exec the plugin in place
// (no sudo process in between), and the sdk's watchdog re-arms the
// parent-death signal inside the plugin, so it still dies with the host.
func (l launch) clientConfig() (*plugin.ClientConfig, error) {
	cfg := &plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		Plugins:          sdk.PluginMap(sdk.APIs(l.apis)),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		StartTimeout:     l.timeout,
		AutoMTLS:         l.autoMTLS,
		Logger:           l.logger,
		Stderr:           l.stderr,
		GRPCDialOptions:  l.dial,
		SkipHostEnv:      true, // l.env is all a plugin gets (see pluginEnv)
	}
	var cmd *exec.Cmd
	switch l.mode {
	case ModeDirect:
		sum, err := hex.DecodeString(l.sha)
		if err != nil || len(sum) != sha256.Size {
			return nil, fmt.Errorf("bad sha256 %q for %s", l.sha, l.path)
		}
		cmd = exec.Command(l.path)
		cfg.SecureConfig = &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	case ModeSudo:
		cmd = exec.Command(l.sudo, "-n", "--", l.path)
		cfg.UnixSocketConfig = &plugin.UnixSocketConfig{Group: l.group}
	default:
		return nil, fmt.Errorf("unresolved launch mode %v", l.mode)
	}
	// A copy per start: go-plugin appends to cmd.Env, and parallel starts
	// appending into one shared backing array would swap each other's
	// AutoMTLS certificates.
	cmd.Env = slices.Clone(l.env)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cfg.Cmd = cmd
	return cfg, nil
}

// securePath is the PATH plugins get: sudo's secure_path on Debian and
// Fedora, so a plugin finds the same tools on both paths.
const securePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// passedEnv are the host variables a plugin may see besides PATH.
var passedEnv = []string{"HOME", "LANG", "LC_ALL", "TZ"}

// pluginEnv is the environment a plugin starts with. It is built, not
// inherited: the host's environment may hold SECRET_CODESCALERS, which no
// plugin needs, and on the sudo path sudo would strip it anyway. Plugins
// get a fixed PATH, the locale and HOME, the sdk's log level following the
// host's (so they do not produce debug lines the host would drop), and the
// operator's extras, which win.
func pluginEnv(debug bool, extra []string) []string {
	env := []string{"PATH=" + securePath}
	for _, k := range passedEnv {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	level := "info"
	if debug {
		level = "debug"
	}
	if v := os.Getenv(sdk.LogLevelEnv); v != "" {
		level = v
	}
	env = append(env, sdk.LogLevelEnv+"="+level)
	return append(env, extra...)
}

// tailBuffer keeps the last lines a plugin wrote to stderr, so a plugin
// that dies before or right after its handshake can be reported with what
// it said (sudo's "a password is required", a Go panic).
type tailBuffer struct {
	mu    sync.Mutex
	lines []string
}

const tailLines = 8

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, line := range bytes.Split(p, []byte("\n")) {
		if s := strings.TrimSpace(string(line)); s != "" {
			t.lines = append(t.lines, logMessage(s))
		}
	}
	if n := len(t.lines); n > tailLines {
		t.lines = append([]string(nil), t.lines[n-tailLines:]...)
	}
	return len(p), nil
}

// String joins the kept lines, newest last, bounded for an error message.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.Join(t.lines, "; ")
	if len(s) > 600 {
		s = "…" + s[len(s)-600:]
	}
	return s
}

// logMessage reduces an hclog JSON line to its message; other lines stay.
func logMessage(line string) string {
	var entry struct {
		Message string `json:"@message"`
		Error   any    `json:"error"`
	}
	if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &entry) != nil || entry.Message == "" {
		return line
	}
	if entry.Error != nil {
		return fmt.Sprintf("%s: %v", entry.Message, entry.Error)
	}
	return entry.Message
}
