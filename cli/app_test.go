package cli

import (
	"strings"
	"testing"
)

// TestUsageExitCodes: every way to get the command line wrong exits 2
// and says what was wrong, before anything is dialled or started.
func TestUsageExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "Usage: hero_codescalers <command>"},
		{"unknown command", []string{"bogus"}, "unexpected argument bogus"},
		{"unknown flag", []string{"health", "--bogus"}, "unknown flag --bogus"},
		{"instance not a number", []string{"--instance", "x", "health"}, "--instance"},
		{"instance out of range", []string{"--instance", "1000", "health"}, "instance 1000"},
		{"port out of range", []string{"--port", "70000", "start"}, "port 70000"},
		{"missing argument", []string{"node-add", "n1"}, "expected \"<address>\""},
		{"lifecycle flag with a command", []string{"--start", "health"}, "--start cannot be combined with the health command"},
		{"two lifecycle flags", []string{"--start", "--stop"}, "--start and --stop can't be used together"},
		{"unknown shell", []string{"completion", "tcsh"}, "must be one of \"bash\",\"zsh\",\"fish\""},
		{"params not JSON", []string{"rpc", "node.get", "{name"}, "JSON-PARAMS is not valid JSON"},
		{"params not JSON, not echoed", []string{"rpc", "user.create", `{"name":"bob","forge_token":"tok-s3cret",}`}, "a syntax error at byte"},
		{"params a scalar", []string{"rpc", "node.get", "42"}, "JSON-PARAMS must be a JSON object or array"},
		{"server with start", []string{"--server", "/x.sock", "start"}, "--server names a socket to call"},
		{"server with serve", []string{"--server", "/x.sock", "serve"}, "--server names a socket to call"},
		{"bad port in env", []string{"status"}, "HERO_CODESCALERS_PORT=\"abc\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			if tc.name == "bad port in env" {
				env["HERO_CODESCALERS_PORT"] = "abc"
			}
			r := runCLI(t, env, tc.args...)
			if r.code != ExitUsage {
				t.Fatalf("exit %d, want 2\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("stderr does not say %q:\n%s", tc.want, r.stderr)
			}
			if strings.Contains(r.stderr+r.stdout, "s3cret") {
				t.Fatalf("the params were echoed:\n%s", r.stderr)
			}
		})
	}
}

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"node-add", "--help"}, {"-h"}} {
		r := runCLI(t, nil, args...)
		if r.code != ExitOK || !strings.Contains(r.stdout, "Usage: hero_codescalers") {
			t.Fatalf("%v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
	}
}

// TestSeedSpellings keeps the command names of the seed project's README
// and the issue: scripts written for them must keep working.
func TestSeedSpellings(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--help"}, {"start", "--help"}, {"stop", "--help"}, {"status", "--help"},
		{"health", "--help"}, {"stats", "--help"}, {"rpc", "--help"}, {"audit-list", "--help"},
		{"node-add", "--help"}, {"node-remove", "--help"}, {"node-list", "--help"}, {"node-get", "--help"},
		{"group-create", "--help"}, {"group-delete", "--help"}, {"group-list", "--help"}, {"group-get", "--help"},
		{"whitelist-get", "--help"}, {"whitelist-set", "--help"}, {"whitelist-add", "--help"},
		{"whitelist-remove", "--help"}, {"whitelist-clear", "--help"}, {"plugin-list", "--help"},
		{"completion", "--help"},
		{"user-create", "--help"}, {"user-delete", "--help"}, {"user-get", "--help"}, {"user-list", "--help"},
		{"user-reset", "--help"}, {"user-lock", "--help"}, {"user-unlock", "--help"}, {"user-key-add", "--help"},
		{"user-key-remove", "--help"}, {"user-quota", "--help"}, {"session-list", "--help"}, {"session-kill", "--help"},
		{"reconcile", "--help"}, {"group-member-add", "--help"}, {"group-member-remove", "--help"},
	} {
		if r := runCLI(t, nil, args...); r.code != ExitOK {
			t.Errorf("%v: exit %d: %s", args, r.code, r.stderr)
		}
	}
}
