package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// secretToken is what the tests give as a forge token and then look for
// in every stream.
const secretToken = "gt_S3cr3t-forge.token~42"

// leakyHost answers user.create and user.create_batch with errors that
// quote the token, as a broken host might; the CLI must not pass it on.
func leakyHost(t *testing.T) *fakeHost {
	leak := func(json.RawMessage) (any, *api.Error) {
		return nil, &api.Error{Code: api.CodeOSCommandFailed, Message: "write hero_cfg.toml: token " + secretToken + " refused",
			Data: &api.ErrorData{Kind: "os_command_failed", Step: "config", Command: []string{"tool", "--token=" + secretToken}, ExitCode: 3, Stderr: "bad " + secretToken}}
	}
	return newFakeHost(t, answers{api.MUserCreate: leak, api.MUserCreateBatch: leak})
}

// TestForgeTokenNeverPrinted: whichever way the token is given, and
// whatever the host answers, it is sent to the host and shown nowhere.
func TestForgeTokenNeverPrinted(t *testing.T) {
	dir := shortDir(t)
	tokFile := filepath.Join(dir, "token")
	os.WriteFile(tokFile, []byte(secretToken+"\n"), 0o600)
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"flag", nil, []string{"--forge-token", secretToken}},
		{"file", nil, []string{"--forge-token-file", tokFile}},
		{"stdin", map[string]string{"_STDIN": secretToken + "\n"}, []string{"--forge-token-file", "-"}},
		{"env", map[string]string{"FORGE_TOKEN": secretToken}, nil},
	} {
		for _, host := range []string{"ok", "leaky"} {
			for _, jsonOut := range []bool{false, true} {
				f := userHost(t)
				if host == "leaky" {
					f = leakyHost(t)
				}
				args := append([]string{"--server", f.socket, "user-create", "alice"}, tc.args...)
				if jsonOut {
					args = append(args, "--json")
				}
				r := runCLI(t, tc.env, args...)
				if want := map[string]int{"ok": ExitOK, "leaky": ExitFailed}[host]; r.code != want {
					t.Fatalf("%s/%s: exit %d, want %d: %s", tc.name, host, r.code, want, r.stderr)
				}
				if strings.Contains(r.stdout+r.stderr, secretToken) {
					t.Fatalf("%s/%s: token printed:\nstdout: %s\nstderr: %s", tc.name, host, r.stdout, r.stderr)
				}
				if host == "leaky" && !strings.Contains(r.stderr, "token [redacted] refused") {
					t.Fatalf("%s: the host's message is gone rather than redacted: %s", tc.name, r.stderr)
				}
				if _, params := f.record(); !strings.Contains(params[0], `"forge_token":"`+secretToken+`"`) {
					t.Fatalf("%s: token not sent: %s", tc.name, params[0])
				}
			}
		}
	}
}

// TestForgeTokenPrecedence: flag, then file, then environment.
func TestForgeTokenPrecedence(t *testing.T) {
	tokFile := filepath.Join(shortDir(t), "token")
	os.WriteFile(tokFile, []byte("  from-file\r\n"), 0o600)
	env := map[string]string{"FORGE_TOKEN": "from-env"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--forge-token", "from-flag"}, "from-flag"},
		{[]string{"--forge-token-file", tokFile}, "from-file"},
		{nil, "from-env"},
	} {
		f := userHost(t)
		r := runCLI(t, env, append([]string{"--server", f.socket, "user-create", "alice"}, tc.args...)...)
		_, params := f.record()
		if r.code != ExitOK || !strings.Contains(params[0], `"forge_token":"`+tc.want+`"`) {
			t.Fatalf("%v: exit %d, sent %v: %s", tc.args, r.code, params, r.stderr)
		}
	}
}

// TestUserCreateUsage: bad command lines exit 2, say what is wrong, quote
// no token and call nothing.
func TestUserCreateUsage(t *testing.T) {
	dir := shortDir(t)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	twoWords := filepath.Join(dir, "two")
	os.WriteFile(twoWords, []byte(secretToken+"\n"+secretToken+"\n"), 0o600)
	csvFile := filepath.Join(dir, "users.csv")
	os.WriteFile(csvFile, []byte("name\nbob\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"user-create"}, "user-create needs a NAME, or --from FILE"},
		{[]string{"user-create", "alice", "--from", csvFile}, "--from takes every user from the file; NAME cannot be combined with it"},
		{[]string{"user-create", "--from", csvFile, "--quota", "1G", "--forge-token", secretToken}, "--forge-token, --quota cannot be combined"},
		{[]string{"user-create", "--from", csvFile, "--chunk", "0"}, "--chunk 0: must be 1-1000"},
		{[]string{"user-create", "alice", "--forge-token", secretToken, "--forge-token-file", empty}, "--forge-token and --forge-token-file can't be used together"},
		{[]string{"user-create", "alice", "--uid", "x"}, "--uid"},
		{[]string{"user-create", "alice", "--forge-token-file", empty}, "--forge-token-file " + empty + " is empty"},
		{[]string{"user-create", "alice", "--forge-token-file", twoWords}, "the token must be one word on one line"},
		{[]string{"user-create", "alice", "--forge-token", "a b"}, "--forge-token: the token must be one word on one line"},
		{[]string{"user-create", "alice", "--forge-token-file", filepath.Join(dir, "missing")}, "missing: no such file or directory"},
		{[]string{"user-create", "alice", "--ssh-key-file", filepath.Join(dir, "missing")}, "--ssh-key-file " + filepath.Join(dir, "missing") + ": no such file"},
		{[]string{"user-create", "alice", "--ssh-key-file", "-", "--forge-token-file", "-"}, "only one input can be read from stdin"},
		{[]string{"user-create", "--from", filepath.Join(dir, "missing")}, "--from " + filepath.Join(dir, "missing") + ": no such file"},
		{[]string{"user-key-add", "alice"}, "user-key-add needs a KEY or --file FILE"},
		{[]string{"user-key-add", "alice", "--file", empty}, "user-key-add needs a KEY or --file FILE"},
		{[]string{"user-quota", "alice"}, `expected "<size>"`},
		{[]string{"group-member-add", "devs"}, `expected "<user>"`},
		{[]string{"user-delete"}, `expected "<name>"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			f := userHost(t)
			r := runCLI(t, nil, append([]string{"--server", f.socket}, tc.args...)...)
			if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, want 2 and %q:\n%s", r.code, tc.want, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, secretToken) {
				t.Fatalf("token printed: %s", r.stderr)
			}
			if calls, _ := f.record(); len(calls) != 0 {
				t.Fatalf("called %v", calls)
			}
		})
	}
}

// TestRedact: wire errors stay wire errors, other errors keep their type
// when there is nothing to hide, and short "secrets" are left alone.
func TestRedact(t *testing.T) {
	we := &api.Error{Code: api.CodeInvalidParams, Message: "x " + secretToken, Data: &api.ErrorData{Field: "forge_token"}}
	out, ok := redact(we, secretToken).(*api.Error)
	if !ok || out.Message != "x [redacted]" || out.Data.Field != "forge_token" || we.Message == out.Message {
		t.Fatalf("got %#v (original %q)", out, we.Message)
	}
	plain := os.ErrNotExist
	if redact(plain, secretToken) != plain || redact(plain) != plain {
		t.Fatal("an error without secrets must come back as it is")
	}
	if got := redact(&api.Error{Message: "a b c"}, "a").Error(); got != "a b c" {
		t.Fatalf("one-letter secret replaced: %q", got)
	}
}
