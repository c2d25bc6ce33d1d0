package cli

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// resolveLimits parses args like Main does and resolves the host's limits.
func resolveLimits(t *testing.T, env map[string]string, args ...string) (Limits, []string, error) {
	t.Helper()
	var cli CLI
	parser, err := newParser(&cli, Env{})
	if err != nil {
		t.Fatal(err)
	}
	kctx, err := parser.Parse(append(args, "health"))
	if err != nil {
		t.Fatal(err)
	}
	rt := &runCtx{env: Env{Getenv: func(k string) string { return env[k] }}, g: &cli.Globals, kctx: kctx}
	l, err := rt.limits()
	return l, rt.serveArgs(api.Paths{SocketDir: "/s/hc", DataDir: "/d"}), err
}

// TestLimitResolution: flags beat the environment, the environment beats
// the defaults (zero: the host's own), and bad values are usage errors
// that say where they came from.
func TestLimitResolution(t *testing.T) {
	env := map[string]string{EnvRPCMaxConns: "300", EnvAuditMaxAge: "30d", EnvAuditMaxRecords: "5000"}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want Limits
		err  string
	}{
		{"defaults", nil, nil, Limits{}, ""},
		{"env", env, nil, Limits{300, 30 * 24 * time.Hour, 5000}, ""},
		{"flags beat env", env, []string{"--rpc-max-conns", "64", "--audit-max-age", "36h", "--audit-max-records", "10"},
			Limits{64, 36 * time.Hour, 10}, ""},
		{"bad env count", map[string]string{EnvAuditMaxRecords: "many"}, nil, Limits{}, EnvAuditMaxRecords},
		{"zero env count", map[string]string{EnvRPCMaxConns: "0"}, nil, Limits{}, EnvRPCMaxConns},
		{"negative flag", nil, []string{"--rpc-max-conns=-1"}, Limits{}, "--rpc-max-conns -1"},
		{"bad age", nil, []string{"--audit-max-age", "forever"}, Limits{}, "--audit-max-age"},
		{"bad env age", map[string]string{EnvAuditMaxAge: "-3h"}, nil, Limits{}, EnvAuditMaxAge},
		{"zero days", nil, []string{"--audit-max-age", "0d"}, Limits{}, "positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := resolveLimits(t, tc.env, tc.args...)
			if tc.err != "" {
				if e, ok := asExit(err); !ok || e.code != ExitUsage || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want a usage error naming %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v (%v), want %+v", got, err, tc.want)
			}
		})
	}
}

// TestStartForwardsLimits: the host start runs gets the limit flags given.
func TestStartForwardsLimits(t *testing.T) {
	_, args, err := resolveLimits(t, nil, "--rpc-max-conns", "64", "--audit-max-age", "90d", "--audit-max-records", "10")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range [][]string{{"--rpc-max-conns", "64"}, {"--audit-max-age", "90d"}, {"--audit-max-records", "10"}} {
		i := slices.Index(args, want[0])
		if i < 0 || i+1 >= len(args) || args[i+1] != want[1] {
			t.Errorf("serve args %v lack %v", args, want)
		}
	}
}
