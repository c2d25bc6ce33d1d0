package cli

import (
	"io"
	"reflect"
	"slices"
	"testing"

	"github.com/alecthomas/kong"
)

// TestCommandNamesMatchKong: commandTree names each command as kong does.
func TestCommandNamesMatchKong(t *testing.T) {
	p, err := newParser(&CLI{}, Env{Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	var fromKong, ours []string
	for _, n := range p.Model.Children {
		fromKong = append(fromKong, n.Name)
	}
	typ := reflect.TypeFor[CLI]()
	for i := range typ.NumField() {
		if name, ok := commandName(typ.Field(i)); ok {
			ours = append(ours, name)
		}
	}
	if !slices.Equal(fromKong, ours) {
		t.Errorf("kong names the commands\n%q\ncommandName says\n%q", fromKong, ours)
	}
}

// TestTrimmedTreeParsesAlike: a command line parsed with the tree cut to
// its command fills the same globals and command as with the whole tree,
// and a line naming no command gets the whole tree.
func TestTrimmedTreeParsesAlike(t *testing.T) {
	env := Env{Stdout: io.Discard, Stderr: io.Discard}
	lines := [][]string{
		{"user-create", "alice", "--ssh-key", "ssh-ed25519 AAAA", "--quota", "1G", "--json", "-i", "3"},
		{"--instance", "7", "--server", "/tmp/x.sock", "user-list", "--prefix", "a"},
		{"session-kill", "bob", "--session", "4"},
		{"plugin", "check", "/bin/true", "--timeout", "3s"},
		{"plugin-approve", "accounts", "volumes"},
		{"--start", "--no-plugins", "--plugin", "sessions=procfs"},
		{"rpc", "user.get", `{"name":"user-list"}`},
	}
	for _, args := range lines {
		full := &CLI{}
		pf, _ := newParser(full, env)
		kf, errFull := pf.Parse(args)
		tree, g := commandTree(args)
		pt, err := newParser(tree, env)
		if err != nil {
			t.Fatalf("%q: trimmed tree: %v", args, err)
		}
		kt, errTrim := pt.Parse(args)
		if (errFull == nil) != (errTrim == nil) {
			t.Errorf("%q: full tree err %v, trimmed %v", args, errFull, errTrim)
			continue
		}
		if errFull != nil {
			continue
		}
		if !reflect.DeepEqual(full.Globals, *g) {
			t.Errorf("%q: globals differ:\nfull    %+v\ntrimmed %+v", args, full.Globals, *g)
		}
		if kf.Command() != kt.Command() {
			t.Errorf("%q: command %q, trimmed %q", args, kf.Command(), kt.Command())
		}
		if got, want := selectedValue(kt), selectedValue(kf); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: command value %+v, want %+v", args, got, want)
		}
	}
	if tree, _ := commandTree([]string{"--help"}); reflect.TypeOf(tree) != reflect.TypeFor[*CLI]() {
		t.Errorf("--help alone: want the whole tree, got %T", tree)
	}
	if tree, _ := commandTree([]string{"completion", "bash"}); reflect.TypeOf(tree) != reflect.TypeFor[*CLI]() {
		t.Errorf("completion: want the whole tree, got %T", tree)
	}
}

// selectedValue is the parsed struct of the selected command.
func selectedValue(k *kong.Context) any {
	n := k.Selected()
	if n == nil {
		return nil
	}
	return n.Target.Interface()
}
