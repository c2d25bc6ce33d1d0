package cli

import (
	"reflect"
	"slices"
	"strings"
	"unicode"
)

// commandTree is what Main parses args with: the whole CLI, or, when args
// name commands, a struct made at run time of CLI's globals, --version,
// the hidden default command and only the commands args name. Kong builds
// its model by reflection over every command and flag, on every start:
// ~1.4 ms for the whole tree, a fifth of a one-shot call like
// `hero_codescalers user-create …`, against a fraction of that for one
// command. Parsing is the same either way, since a command's flags and
// arguments are its own plus the globals; args that name no command (help,
// a typo) get the whole tree and its usual messages, and so does
// completion, which prints the whole tree. A value that happens to spell a
// command name only brings one more command along.
func commandTree(args []string) (tree any, g *Globals) {
	named := func(cmd string) bool { return slices.Contains(args, cmd) }
	if named("completion") || named("man") {
		full := &CLI{}
		return full, &full.Globals
	}
	t := reflect.TypeFor[CLI]()
	var fields []reflect.StructField
	commands := 0
	for i := range t.NumField() {
		f := t.Field(i)
		name, isCmd := commandName(f)
		switch {
		case !isCmd, f.Tag.Get("default") == "1":
			fields = append(fields, f)
		case named(name):
			fields = append(fields, f)
			commands++
		}
	}
	if commands == 0 {
		full := &CLI{}
		return full, &full.Globals
	}
	v := reflect.New(reflect.StructOf(fields))
	return v.Interface(), v.Elem().FieldByName("Globals").Addr().Interface().(*Globals)
}

// commandName is the name kong gives a command field: its name tag, or
// its Go name in kebab case (UserCreate: user-create).
func commandName(f reflect.StructField) (string, bool) {
	if _, ok := f.Tag.Lookup("cmd"); !ok {
		return "", false
	}
	if n := f.Tag.Get("name"); n != "" {
		return n, true
	}
	var b strings.Builder
	for i, r := range f.Name {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String(), true
}
