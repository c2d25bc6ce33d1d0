package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func showConfig(t *testing.T, env map[string]string, args ...string) (configReport, result) {
	t.Helper()
	r := runCLI(t, env, append([]string{"--json"}, append(args, "config", "show")...)...)
	var rep configReport
	if r.code == 0 {
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("config show --json: %v\n%s", err, r.stdout)
		}
	}
	return rep, r
}

func settingOf(rep configReport, key string) source {
	for _, s := range rep.Settings {
		if s.Key == key {
			return s
		}
	}
	return source{}
}

// TestConfigPrecedence: flags beat the environment, which beats the
// file, which beats the defaults; config show names each source, the
// file's with its line.
func TestConfigPrecedence(t *testing.T) {
	path := writeConfig(t, `# host settings
admin_group = "filegroup"
home_root = "/srv/home"
audit_max_age = "30d"
rpc_max_conns = 50
log_level = "debug"
whitelist = ["400::/7"]

[plugins]
sessions = "procfs"
`)
	env := map[string]string{EnvAuditMaxAge: "7d", "HERO_CODESCALERS_CONFIG": path}
	rep, r := showConfig(t, env, "--admin-group", "flaggroup")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for key, want := range map[string][2]string{
		"admin_group":      {"flaggroup", "flag --admin-group"},
		"audit_max_age":    {"7d", "env " + EnvAuditMaxAge},
		"home_root":        {"/srv/home", "file " + path + ":3"},
		"rpc_max_conns":    {"50", "file " + path + ":5"},
		"plugins.sessions": {"procfs", "file " + path + ":10"},
		"whitelist":        {"400::/7", "file " + path + ":7"},
		"socket_group":     {"none: rpc.sock 0600", "default"},
		"log_format":       {"text", "default"},
	} {
		if got := settingOf(rep, key); got.Value != want[0] || got.Source != want[1] {
			t.Errorf("%s: %q from %q, want %q from %q", key, got.Value, got.Source, want[0], want[1])
		}
	}
	if rep.File != path || rep.Layout != "user" {
		t.Errorf("file %q layout %q", rep.File, rep.Layout)
	}
}

// TestConfigErrorsNameTheLine: a bad value stops the host commands with
// the file and line, exit 2; a client command is not stopped by a host
// setting it does not use.
func TestConfigErrorsNameTheLine(t *testing.T) {
	for text, want := range map[string]string{
		"home_root = \"/h\"\nlog_level = \"loud\"\n": ":2: log_level: \"loud\": want one of debug, info, warn, error",
		"port = 70000\n":                             ":1: port: 70000: want 1..65535",
		"\n\nhome_root = \"relative\"\n":             ":3: home_root: \"relative\": want an absolute path",
		"[plugins]\nsession = \"procfs\"\n":          ":2: plugins.session: no such concern",
		"adminn_group = \"x\"\n":                     ":1: adminn_group: unknown setting",
		"whitelist = [\"400::/7\", \"not an ip\"]\n": ":1: whitelist: \"not an ip\": want an IP address",
		"audit_max_records = \"many\"\n":             ":1: audit_max_records: want an integer, got a string",
	} {
		path := writeConfig(t, text)
		_, r := showConfig(t, nil, "--config", path)
		if r.code != ExitUsage || !strings.Contains(r.stderr, path+want) {
			t.Errorf("%q: exit %d, want 2 and %q:\n%s", text, r.code, path+want, r.stderr)
		}
	}
	// A client only applies where the host is: health is not stopped by
	// a bad log level (it is unreachable here: exit 3, not 2).
	path := writeConfig(t, "log_level = \"loud\"\n")
	if r := runCLI(t, nil, "--config", path, "--server", filepath.Join(shortDir(t), "none.sock"), "health"); r.code != ExitUnreachable {
		t.Errorf("health with a bad host setting: exit %d: %s", r.code, r.stderr)
	}
	// An explicit file that is missing is an error; the default is not.
	if _, r := showConfig(t, nil, "--config", filepath.Join(t.TempDir(), "none.toml")); r.code != ExitUsage {
		t.Errorf("missing --config: exit %d", r.code)
	}
}

// TestHostFlagsRefusedOnClients: a host setting given to a client
// command is a usage error (it used to be ignored), on the host commands
// it is taken.
func TestHostFlagsRefusedOnClients(t *testing.T) {
	for _, args := range [][]string{
		{"user-list", "--admin-group", "x"},
		{"--home-root", "/srv", "health"},
		{"status", "--dashboard-open"},
		{"user-create", "ann", "--plugin", "sessions=procfs"},
		{"--port", "5005", "session-list"},
		{"stop", "--log-level", "debug"},
	} {
		r := runCLI(t, nil, args...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, "is a host setting") {
			t.Errorf("%v: exit %d: %s", args, r.code, r.stderr)
		}
	}
	if _, r := showConfig(t, nil, "--admin-group", "x", "--log-format", "json"); r.code != 0 {
		t.Errorf("config show with host flags: exit %d: %s", r.code, r.stderr)
	}
}

// TestNATSURLPasswordHidden: a NATS URL's password is never shown (config
// show, a bad value's error), and --start hands the URL to the host in
// its environment, not on its command line, which every local user can
// read in /proc.
func TestNATSURLPasswordHidden(t *testing.T) {
	const url = "nats://hc:s3cret-pw@10.0.0.1:4222, nats://hc:s3cret-pw@10.0.0.2:4222"
	rep, r := showConfig(t, nil, "--nats-url", url)
	if got := settingOf(rep, "nats_url"); r.code != 0 || strings.Contains(r.stdout, "s3cret") || !strings.Contains(got.Value, "10.0.0.2:4222") {
		t.Errorf("config show: exit %d, %q\n%s", r.code, got.Value, r.stdout)
	}
	path := writeConfig(t, "nats_url = \"http://hc:s3cret-pw@10.0.0.1\"\n")
	if _, r := showConfig(t, nil, "--config", path); r.code != ExitUsage || strings.Contains(r.stderr, "s3cret") || !strings.Contains(r.stderr, "nats_url") {
		t.Errorf("a bad file value: exit %d:\n%s", r.code, r.stderr)
	}

	var cli CLI
	parser, err := newParser(&cli, Env{})
	if err != nil {
		t.Fatal(err)
	}
	kctx, err := parser.Parse([]string{"--nats-url", url, "health"})
	if err != nil {
		t.Fatal(err)
	}
	rt := &runCtx{env: Env{Getenv: func(string) string { return "" }}, g: &cli.Globals, kctx: kctx}
	args, env := rt.serveArgs(api.Paths{SocketDir: "/s/hc", DataDir: "/d"}), rt.serveEnv()
	if strings.Contains(strings.Join(args, " "), "s3cret") || !slices.Contains(env, api.EnvNATSURL+"="+url) {
		t.Errorf("the host's arguments %q, environment %q", args, env)
	}
}
