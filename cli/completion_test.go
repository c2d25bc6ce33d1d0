package cli

import (
	"os"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// complete runs the generated bash completion for a command line typed up
// to the cursor (the last word is being completed) and returns COMPREPLY.
func complete(t *testing.T, script string, words ...string) []string {
	t.Helper()
	dir := shortDir(t)
	os.WriteFile(filepath.Join(dir, "sockfile"), nil, 0o600)
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = shellQuote(w)
		if w == "" {
			quoted[i] = "''"
		}
	}
	prog := script + "\n" +
		"cd " + dir + "\n" +
		"COMP_WORDS=(hero_codescalers " + strings.Join(quoted, " ") + ")\n" +
		"COMP_CWORD=" + strconv.Itoa(len(words)) + "\n" +
		"_hero_codescalers\n" +
		`printf '%s\n' "${COMPREPLY[@]}"` + "\n"
	out, err := exec.Command("bash", "-c", prog).CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	return strings.Fields(string(out))
}

func TestBashCompletion(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}
	r := runCLI(t, nil, "completion", "bash")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if out, err := exec.Command("bash", "-n", "-c", r.stdout).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		words []string
		has   []string
		lacks []string
	}{
		{[]string{"node-"}, []string{"node-add", "node-list", "node-get", "node-remove"}, []string{"health"}},
		{[]string{""}, []string{"health", "serve", "whitelist-clear", "--instance", "--start"}, []string{"lifecycle"}},
		{[]string{"node-add", "--"}, []string{"--label", "--instance", "--json"}, []string{"--member"}},
		{[]string{"--instance", "1", "group-create", "--m"}, []string{"--member"}, nil},
		{[]string{"completion", ""}, []string{"bash", "zsh"}, nil},
		{[]string{"--server", "so"}, []string{"sockfile"}, nil},
		{[]string{"user-"}, []string{"user-create", "user-list", "user-key-add", "user-quota"}, []string{"session-list"}},
		{[]string{"user-create", "--forge-token-file", "so"}, []string{"sockfile"}, nil},
		{[]string{"--instance", ""}, nil, []string{"health"}},
	} {
		got := complete(t, r.stdout, tc.words...)
		set := map[string]bool{}
		for _, g := range got {
			set[g] = true
		}
		for _, w := range tc.has {
			if !set[w] {
				t.Errorf("%q: completions lack %s: %v", tc.words, w, got)
			}
		}
		for _, w := range tc.lacks {
			if set[w] {
				t.Errorf("%q: completions offer %s: %v", tc.words, w, got)
			}
		}
	}
}

func TestZshCompletion(t *testing.T) {
	r := runCLI(t, nil, "completion", "zsh")
	if r.code != ExitOK || !strings.HasPrefix(r.stdout, "#compdef hero_codescalers") {
		t.Fatalf("exit %d: %s", r.code, r.stdout)
	}
	for _, want := range []string{"'node-add:Add a node", "'--server=[", ":_files'", "'1:completion:(bash zsh fish)'", "'1:users:{compadd -- ${(f)\"$(hero_codescalers __complete users 2>/dev/null)\"}}'"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("script lacks %q", want)
		}
	}
	if _, err := exec.LookPath("zsh"); err != nil {
		t.Skip("zsh not installed: syntax not checked")
	}
	if out, err := exec.Command("zsh", "-n", "-c", r.stdout).CombinedOutput(); err != nil {
		t.Fatalf("zsh -n: %v\n%s", err, out)
	}
}

// TestDynamicCompletion: the names of users, groups and nodes come from
// the host (__complete), in the bash script's right places; with no host
// __complete prints nothing and exits 0, so a tab press never errs.
func TestDynamicCompletion(t *testing.T) {
	f := newFakeHost(t, answers{
		api.MUserList:  fixed(api.UserListResult{Users: []core.User{{Name: "alice"}, {Name: "bob"}}}),
		api.MGroupList: fixed(api.GroupListResult{Groups: []core.Group{{Name: "devs"}}}),
		api.MNodeList:  fixed(api.NodeListResult{Nodes: []core.Node{{Name: "n1"}}}),
	})
	for kind, want := range map[string]string{"users": "alice\nbob\n", "groups": "devs\n", "nodes": "n1\n"} {
		if r := runCLI(t, nil, "--server", f.socket, "__complete", kind); r.code != 0 || r.stdout != want {
			t.Errorf("__complete %s: exit %d %q, want %q", kind, r.code, r.stdout, want)
		}
	}
	if r := runCLI(t, nil, "--server", filepath.Join(shortDir(t), "none.sock"), "__complete", "users"); r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Errorf("__complete without a host: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}
	// The script calls the program by name: a shell function stands in.
	script := runCLI(t, nil, "completion", "bash").stdout +
		"\nhero_codescalers() { case \"$2\" in users) printf 'alice\\nbob\\n';; groups) echo devs;; nodes) echo n1;; esac; }\n"
	for _, tc := range []struct {
		words []string
		want  string
		lacks string
	}{
		{[]string{"user-delete", "a"}, "alice", "bob"},
		{[]string{"session-kill", ""}, "bob", ""},
		{[]string{"group-get", "d"}, "devs", ""},
		{[]string{"node-remove", ""}, "n1", ""},
		{[]string{"user-create", ""}, "--quota", "alice"},
	} {
		got := strings.Join(complete(t, script, tc.words...), " ")
		if !strings.Contains(got, tc.want) || (tc.lacks != "" && strings.Contains(got, tc.lacks)) {
			t.Errorf("%q: %s, want %s and not %q", tc.words, got, tc.want, tc.lacks)
		}
	}
}

// TestFishCompletion: commands, flags with their help, and the dynamic
// names; fish -n checks the syntax where fish is installed.
func TestFishCompletion(t *testing.T) {
	r := runCLI(t, nil, "completion", "fish")
	for _, want := range []string{
		"complete -c hero_codescalers -f\n",
		"complete -c hero_codescalers -n __fish_use_subcommand -a user-delete -d 'Delete a managed user",
		"complete -c hero_codescalers -n '__fish_seen_subcommand_from user-delete' -a '(hero_codescalers __complete users 2>/dev/null)'",
		"complete -c hero_codescalers -s i -l instance -r -d",
		"-l server -r -F -d",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("fish script lacks %q", want)
		}
	}
	if _, err := exec.LookPath("fish"); err != nil {
		t.Skip("fish not installed: syntax not checked")
	}
	if out, err := exec.Command("fish", "-n", "-c", r.stdout).CombinedOutput(); err != nil {
		t.Fatalf("fish -n: %v\n%s", err, out)
	}
}

// TestManPage: the page names every visible command and the exit codes.
func TestManPage(t *testing.T) {
	r := runCLI(t, nil, "man")
	if r.code != 0 || !strings.HasPrefix(r.stdout, ".TH HERO_CODESCALERS 1") {
		t.Fatalf("exit %d: %.200s", r.code, r.stdout)
	}
	for _, want := range []string{".SS user\\-create", ".SS config show", ".SH EXIT STATUS", "already_exists", "/etc/hero_codescalers/config.toml", "\\-\\-dry\\-run"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("man page lacks %q", want)
		}
	}
	if strings.Contains(r.stdout, "__complete") {
		t.Error("the man page shows the hidden __complete")
	}
}
