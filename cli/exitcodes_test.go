package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// TestExitCodePerClass: each class of failure has its own exit code, and
// under --json the error is one JSON object on stdout naming it.
func TestExitCodePerClass(t *testing.T) {
	fail := func(c core.Code, msg string) func(json.RawMessage) (any, *api.Error) {
		return func(json.RawMessage) (any, *api.Error) { return nil, api.FromError(core.Errorf(c, "%s", msg)) }
	}
	f := newFakeHost(t, answers{
		api.MUserGet:       fail(core.NotFound, "user zed not found"),
		api.MGroupCreate:   fail(core.AlreadyExists, "group dev already exists"),
		api.MUserDelete:    fail(core.Forbidden, "user.delete needs root; you are uid 1000"),
		api.MUserLock:      fail(core.FailedPrecondition, "the home is busy"),
		api.MUserUnlock:    fail(core.Unavailable, "accounts plugin unavailable"),
		api.MUserReset:     fail(core.OSCommandFailed, "usermod failed"),
		api.MUserQuotaSet:  fail(core.Invalid, "quota: not a size"),
		api.MHealth:        fixed(api.HealthResult{Status: "degraded", Plugins: []api.PluginHealth{{Concern: "accounts", Name: "shadow", State: "crashed"}}}),
		api.MSessionList:   fixed(api.SessionListResult{}),
		api.MUserKeyRemove: fail(core.Internal, ""),
	})
	cases := []struct {
		args  []string
		code  int
		class string
	}{
		{[]string{"session-list"}, ExitOK, ""},
		{[]string{"user-reset", "ann"}, ExitFailed, "failed"},
		{[]string{"user-quota", "ann", "lots"}, ExitUsage, "usage"},
		{[]string{"no-such-command"}, ExitUsage, "usage"},
		{[]string{"user-unlock", "ann"}, ExitUnreachable, "unavailable"},
		{[]string{"health"}, ExitUnreachable, ""}, // degraded: the report is the JSON
		{[]string{"user-get", "zed"}, ExitNotFound, "not_found"},
		{[]string{"group-create", "dev"}, ExitExists, "already_exists"},
		{[]string{"user-delete", "ann"}, ExitForbidden, "forbidden"},
		{[]string{"user-lock", "ann"}, ExitConflict, "conflict"},
		{[]string{"user-key-remove", "ann", "ssh-ed25519 AAAA"}, ExitFailed, "failed"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, "_"), func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"--server", f.socket}, tc.args...)...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d: %s", r.code, tc.code, r.stderr)
			}
			r = runCLI(t, nil, append([]string{"--json", "--server", f.socket}, tc.args...)...)
			if r.code != tc.code {
				t.Fatalf("--json: exit %d, want %d: %s", r.code, tc.code, r.stderr)
			}
			if tc.class == "" {
				if !json.Valid([]byte(r.stdout)) {
					t.Fatalf("--json stdout is not JSON: %q", r.stdout)
				}
				return
			}
			checkJSONError(t, r, tc.code, tc.class)
		})
	}
	// Unreachable, and the partial class of a batch, are tested where
	// they arise (TestUserCommandErrors, TestBatchFailures); one more:
	r := runCLI(t, nil, "--json", "--server", filepath.Join(shortDir(t), "none.sock"), "user-list")
	checkJSONError(t, r, ExitUnreachable, "unavailable")
}

// checkJSONError: stdout is exactly one JSON error object of the class.
func checkJSONError(t *testing.T, r result, code int, class string) {
	t.Helper()
	var je jsonError
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	if err := dec.Decode(&je); err != nil || dec.More() {
		t.Fatalf("--json stdout is not one JSON object (%v): %q", err, r.stdout)
	}
	if je.Error.ExitCode != code || je.Error.Class != class || je.Error.Message == "" {
		t.Fatalf("--json error %+v, want exit %d class %s", je.Error, code, class)
	}
}

// TestHelpListsExitCodes: --help ends with the exit codes.
func TestHelpListsExitCodes(t *testing.T) {
	r := runCLI(t, nil, "--help")
	for _, c := range exitClasses {
		if !strings.Contains(r.stdout, c.Kind) {
			t.Fatalf("--help lacks exit class %s:\n%s", c.Kind, r.stdout)
		}
	}
}
