package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// answers is what a fake host answers, per method.
type answers = map[string]func(json.RawMessage) (any, *api.Error)

// Two real keys and the fingerprints ssh-keygen -l gives them.
const (
	keyAlice = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKUkDES0r9j14zFkOSiQ2HfwuOIO3/Bian/+HNx1K4hd alice@laptop"
	fpAlice  = "SHA256:JoWpfvTkpYm89+c1thcMNbqiakNVq5SjroHtnUSHBog"
	keyBob   = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFeX8sEhLN24OcrsLz+VQw6OgRos/FsNrbyDfjipATlb bob@desk"
	fpBob    = "SHA256:7Opy42JnkGAwZqfTfMpo1PlD2KsfMyYj4n4SBQlmZAY"
	pubAlice = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGeneratedOnTheNodeForAliceXXXXXXXXXXXXXXX alice@node1"
)

// alice is the user the fake host knows.
var alice = core.User{
	Name: "alice", UID: 2001, GID: 2001, Shell: "/bin/bash", Home: "/home/alice",
	Groups: []string{"codescalers", "devs"}, QuotaBytes: 20 << 30, SSHKeys: []string{keyAlice, keyBob},
	PublicKey: pubAlice, State: core.UserActive, Created: created, Updated: created,
}

// userHost answers every user, session and group-member method.
func userHost(t *testing.T) *fakeHost {
	locked := alice
	locked.State = core.UserLocked
	return newFakeHost(t, answers{
		api.MUserCreate:     fixed(alice),
		api.MUserDelete:     fixed(api.OK{OK: true}),
		api.MUserGet:        fixed(alice),
		api.MUserList:       fixed(api.UserListResult{Users: []core.User{alice, {Name: "bob", UID: 2002, State: core.UserLocked}}, Next: "bob"}),
		api.MUserReset:      fixed(api.UserResetResult{Repaired: []string{"/home/alice mode 0700 -> 0755"}}),
		api.MUserLock:       fixed(locked),
		api.MUserUnlock:     fixed(alice),
		api.MUserKeyAdd:     fixed(alice),
		api.MUserKeyRemove:  fixed(alice),
		api.MUserQuotaSet:   fixed(alice),
		api.MSessionList:    fixed(api.SessionListResult{Sessions: []core.Session{{ID: "c3", User: "alice", TTY: "pts/1", RemoteHost: "10.0.0.9", Started: created, IdleSecs: 125, PIDs: []int{41, 42}}}}),
		api.MSessionKill:    fixed(api.SessionKillResult{Killed: 2}),
		api.MReconcile:      fixed(api.ReconcileResult{Drift: []core.Drift{}}),
		api.MGroupMemberAdd: fixed(core.Group{Name: "devs", GID: 3000, Members: []string{"alice", "bob"}}),
		api.MGroupMemberDel: fixed(core.Group{Name: "devs", GID: 3000, Members: []string{"bob"}}),
	})
}

// TestUserCommandsSendTheContract: each command's arguments and flags
// reach the host as the params api/users.go defines, spelt exactly.
func TestUserCommandsSendTheContract(t *testing.T) {
	keyFile := filepath.Join(shortDir(t), "keys.pub")
	os.WriteFile(keyFile, []byte("# laptop\n"+keyAlice+"\n\n"+keyBob+"\n"), 0o600)
	for _, tc := range []struct {
		args   []string
		method string
		params string
	}{
		{[]string{"user-create", "alice", "--ssh-key", keyAlice, "--ssh-key", keyBob, "--quota", "20G", "--groups", "g1,g2", "--groups", "g3", "--uid", "2001", "--shell", "/bin/zsh"},
			api.MUserCreate, `{"name":"alice","uid":2001,"ssh_keys":["` + keyAlice + `","` + keyBob + `"],"quota":"20G","groups":["g1","g2","g3"],"shell":"/bin/zsh"}`},
		{[]string{"user-create", "bob", "--ssh-key-file", keyFile}, api.MUserCreate, `{"name":"bob","ssh_keys":["` + keyAlice + `","` + keyBob + `"]}`},
		{[]string{"user-create", "root0", "--uid", "0"}, api.MUserCreate, `{"name":"root0","uid":0}`},
		{[]string{"user-delete", "alice"}, api.MUserDelete, `{"name":"alice"}`},
		{[]string{"user-delete", "alice", "--keep-home"}, api.MUserDelete, `{"name":"alice","keep_home":true}`},
		{[]string{"user-get", "alice"}, api.MUserGet, `{"name":"alice"}`},
		{[]string{"user-list"}, api.MUserList, `{}`},
		{[]string{"user-list", "--prefix", "a", "--group", "devs", "--state", "locked", "--limit", "5", "--after", "al"},
			api.MUserList, `{"prefix":"a","group":"devs","state":"locked","limit":5,"after":"al"}`},
		{[]string{"user-reset", "alice"}, api.MUserReset, `{"name":"alice"}`},
		{[]string{"user-lock", "alice"}, api.MUserLock, `{"name":"alice"}`},
		{[]string{"user-unlock", "alice"}, api.MUserUnlock, `{"name":"alice"}`},
		{[]string{"user-key-add", "alice", keyBob}, api.MUserKeyAdd, `{"name":"alice","keys":["` + keyBob + `"]}`},
		{[]string{"user-key-add", "alice", keyBob, "--file", keyFile}, api.MUserKeyAdd, `{"name":"alice","keys":["` + keyBob + `","` + keyAlice + `","` + keyBob + `"]}`},
		{[]string{"user-key-remove", "alice", fpBob}, api.MUserKeyRemove, `{"name":"alice","key":"` + fpBob + `"}`},
		{[]string{"user-quota", "alice", "1.5T"}, api.MUserQuotaSet, `{"name":"alice","quota":"1.5T"}`},
		{[]string{"session-list"}, api.MSessionList, `{}`},
		{[]string{"session-list", "alice"}, api.MSessionList, `{"user":"alice"}`},
		{[]string{"session-kill", "alice"}, api.MSessionKill, `{"user":"alice"}`},
		{[]string{"session-kill", "alice", "--session", "c3"}, api.MSessionKill, `{"user":"alice","session":"c3"}`},
		{[]string{"reconcile"}, api.MReconcile, `{}`},
		{[]string{"group-member-add", "devs", "alice"}, api.MGroupMemberAdd, `{"name":"devs","user":"alice"}`},
		{[]string{"group-member-remove", "devs", "alice"}, api.MGroupMemberDel, `{"name":"devs","user":"alice"}`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			f := userHost(t)
			r := runCLI(t, nil, append([]string{"--server", f.socket}, tc.args...)...)
			if r.code != ExitOK {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			calls, params := f.record()
			if len(calls) != 1 || calls[0] != tc.method || params[0] != tc.params {
				t.Fatalf("sent %v %v\nwant   %s %s", calls, params, tc.method, tc.params)
			}
		})
	}
}

// TestUserOutputTableAndJSON: every command renders for people by default
// and prints the API's own result under --json.
func TestUserOutputTableAndJSON(t *testing.T) {
	f := userHost(t)
	for _, tc := range []struct {
		args  []string
		table []string
		json  string
	}{
		{[]string{"user-create", "alice"}, []string{"created user alice: uid 2001, home /home/alice, quota 20G, 2 ssh keys, groups codescalers,devs",
			"public key of alice (register it on the forge):\n\n" + pubAlice + "\n"}, `"public_key": "` + pubAlice + `"`},
		{[]string{"user-get", "alice"}, []string{"uid:         2001", "quota:       20G", "ssh keys:    2",
			"  key:       ssh-ed25519 " + fpAlice + " alice@laptop", "  key:       ssh-ed25519 " + fpBob + " bob@desk", "state:       active"}, `"quota_bytes": 21474836480`},
		{[]string{"user-list", "--group", "devs"}, []string{"NAME   UID   STATE   QUOTA  GROUPS            KEYS",
			"alice  2001  active  20G    codescalers,devs  2", "bob    2002  locked  none   -                 0",
			"more: hero_codescalers user-list --group devs --after bob"}, `"next": "bob"`},
		{[]string{"user-delete", "alice", "--keep-home"}, []string{"deleted user alice; the home was kept read-only"}, `"ok": true`},
		{[]string{"user-reset", "alice"}, []string{"repaired: /home/alice mode 0700 -> 0755"}, `"repaired": [`},
		{[]string{"user-lock", "alice"}, []string{"locked user alice; its sessions were ended (state: locked)"}, `"state": "locked"`},
		{[]string{"user-unlock", "alice"}, []string{"unlocked user alice (state: active)"}, `"state": "active"`},
		{[]string{"user-key-add", "alice", keyBob}, []string{"alice has 2 ssh keys:\n  ssh-ed25519 " + fpAlice + " alice@laptop\n"}, `"ssh_keys": [`},
		{[]string{"user-key-remove", "alice", fpBob}, []string{"alice has 2 ssh keys:"}, `"name": "alice"`},
		{[]string{"user-quota", "alice", "20G"}, []string{"quota of alice: 20G (21474836480 bytes)"}, `"quota_bytes": 21474836480`},
		{[]string{"session-list"}, []string{"ID  USER   TTY    FROM      STARTED", "c3  alice  pts/1  10.0.0.9", "2m    41,42"}, `"idle_secs": 125`},
		{[]string{"session-kill", "alice"}, []string{"ended 2 sessions of alice"}, `"killed": 2`},
		{[]string{"reconcile"}, []string{"no drift: the machine matches the state"}, `"drift": []`},
		{[]string{"group-member-add", "devs", "alice"}, []string{"members:      alice,bob", "gid:          3000"}, `"members": [`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"--server", f.socket}, tc.args...)...)
			if r.code != ExitOK {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			for _, want := range tc.table {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, r.stdout)
				}
			}
			r = runCLI(t, nil, append([]string{"--json", "--server", f.socket}, tc.args...)...)
			if r.code != ExitOK || !json.Valid([]byte(r.stdout)) || !strings.Contains(r.stdout, tc.json) {
				t.Fatalf("--json: exit %d, want valid JSON with %q:\n%s%s", r.code, tc.json, r.stdout, r.stderr)
			}
		})
	}
}

// TestEmptyAnswers: an empty result is said in words, not as a bare
// header.
func TestEmptyAnswers(t *testing.T) {
	f := newFakeHost(t, answers{
		api.MUserReset:    fixed(api.UserResetResult{Repaired: []string{}}),
		api.MSessionList:  fixed(api.SessionListResult{Sessions: []core.Session{}}),
		api.MSessionKill:  fixed(api.SessionKillResult{}),
		api.MUserQuotaSet: fixed(core.User{Name: "alice"}),
	})
	for args, want := range map[string]string{
		"user-reset alice":   "nothing to repair: alice matches the layout\n",
		"session-list":       "no login sessions\n",
		"session-kill alice": "alice had no session to end\n",
		"user-quota alice 0": "quota of alice: none (no limit)\n",
	} {
		r := runCLI(t, nil, append([]string{"--server", f.socket}, strings.Fields(args)...)...)
		if r.code != ExitOK || r.stdout != want {
			t.Errorf("%s: exit %d, stdout %q, want %q", args, r.code, r.stdout, want)
		}
	}
}

// TestReconcileExitCode: drift is exit 1, in the table and under --json
// alike, so a monitoring check needs only the code.
func TestReconcileExitCode(t *testing.T) {
	f := newFakeHost(t, answers{
		api.MReconcile: fixed(api.ReconcileResult{Drift: []core.Drift{
			{User: "alice", Detail: "/home/alice mode 0700, want 0755"}, {User: "mallory", Detail: "in the marker group but not managed"},
			{Group: "devs", Detail: "shared volume /home/groups/devs is missing"},
		}}),
	})
	r := runCLI(t, nil, "--server", f.socket, "reconcile")
	if r.code != ExitFailed || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{"WHO         DRIFT", "mallory     in the marker group but not managed", "group devs  shared volume /home/groups/devs is missing", "3 findings; user-reset NAME repairs a managed user"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	r = runCLI(t, nil, "--json", "--server", f.socket, "reconcile")
	if r.code != ExitFailed || !json.Valid([]byte(r.stdout)) || !strings.Contains(r.stdout, `"user": "mallory"`) {
		t.Fatalf("--json: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestUserCommandErrors: a host error exits by its class (not found: 4)
// with its message; no host is exit 3, for the new commands as for the old.
func TestUserCommandErrors(t *testing.T) {
	f := newFakeHost(t, answers{
		api.MUserGet: func(json.RawMessage) (any, *api.Error) {
			return nil, api.FromError(core.Errorf(core.NotFound, "user %s not found", "zed"))
		},
	})
	r := runCLI(t, nil, "--server", f.socket, "user-get", "zed")
	if r.code != ExitNotFound || !strings.Contains(r.stderr, "error: user zed not found") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	r = runCLI(t, nil, "--server", filepath.Join(shortDir(t), "none.sock"), "user-list")
	if r.code != ExitUnreachable {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}

func TestFormatters(t *testing.T) {
	for in, want := range map[int64]string{0: "none", 512: "512B", 1 << 10: "1K", 500 << 20: "500M", 20 << 30: "20G",
		3 << 39: "1.5T", 1<<30 + 1: "1G", 5 << 50: "5P"} {
		if got := fmtQuota(in); got != want {
			t.Errorf("fmtQuota(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int64]string{0: "0s", 59: "59s", 125: "2m", 3*3600 + 7*60: "3h07m", 2*86400 + 5*3600: "2d05h"} {
		if got := fmtIdle(in); got != want {
			t.Errorf("fmtIdle(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		keyAlice:         "ssh-ed25519 " + fpAlice + " alice@laptop",
		"not a key":      "not a key",
		"ssh-rsa !!!bad": "ssh-rsa !!!bad",
	} {
		if got := fmtKey(in); got != want {
			t.Errorf("fmtKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestUserPlaceTakesNodesFlag: user-place takes its selector as the
// argument, or as --nodes the way user-create --fleet does (with --fleet
// accepted), and refuses two different ones before calling the host.
func TestUserPlaceTakesNodesFlag(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		nodes string
	}{
		{[]string{"alice", "zone=eu"}, `"nodes":"zone=eu"`},
		{[]string{"alice", "--nodes", "zone=eu", "--fleet"}, `"nodes":"zone=eu"`},
		{[]string{"alice", "zone=eu", "--nodes", "zone=eu"}, `"nodes":"zone=eu"`},
	} {
		f := newFakeHost(t, answers{api.MFleetUserPlace: fixed(core.FleetResult{})})
		r := runCLI(t, nil, append([]string{"--server", f.socket, "user-place"}, tc.args...)...)
		calls, params := f.record()
		if r.code != ExitOK || len(calls) != 1 || !strings.Contains(params[0], tc.nodes) {
			t.Errorf("%v: exit %d %s; sent %v %v", tc.args, r.code, r.stderr, calls, params)
		}
	}
	f := newFakeHost(t, answers{api.MFleetUserPlace: fixed(core.FleetResult{})})
	r := runCLI(t, nil, "--server", f.socket, "user-place", "alice", "zone=eu", "--nodes", "zone=us")
	if calls, _ := f.record(); r.code != ExitUsage || len(calls) != 0 || !strings.Contains(r.stderr, "given twice") {
		t.Errorf("two selectors: exit %d %s; calls %v", r.code, r.stderr, calls)
	}
}
