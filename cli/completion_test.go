package cli

import (
	"os"
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
	for _, want := range []string{"'node-add:Add a node", "'--server=[", ":_files'", "'1:completion:(bash zsh)'"} {
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
