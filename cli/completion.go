package cli

import (
	"fmt"
	"strings"
	"text/template"

	"github.com/alecthomas/kong"
)

// completionCmd prints a completion script generated from the command
// tree itself, so a new command or flag is completed the moment it exists.
// Commands, flags and fixed choices are completed without the host; user,
// group and node names come from the host (`__complete`, bounded to half
// a second, silent when the host is down).
type completionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"bash, zsh or fish."`
}

// Run prints the script. Install with, e.g.:
//
//	hero_codescalers completion bash > /etc/bash_completion.d/hero_codescalers
//	source <(hero_codescalers completion zsh)
func (c *completionCmd) Run(rt *runCtx) error {
	m := completionModel(rt.kctx.Model)
	tmpl := bashTmpl
	switch c.Shell {
	case "zsh":
		tmpl = zshTmpl
	case "fish":
		tmpl = fishTmpl
	}
	return tmpl.Execute(rt.env.Stdout, m)
}

// compFlag is one flag as the scripts need it.
type compFlag struct {
	Name  string // without dashes
	Short string // one letter or ""
	Help  string
	Value bool // takes a value
	Files bool // the value is a path
}

// compCmd is one command with its own flags and the fixed choices of its
// first argument, if any.
type compCmd struct {
	Name    string
	Help    string
	Flags   []compFlag
	Choices []string
	Dynamic string // users, groups or nodes: the first argument's names come from the host
}

// compModel is the tree reduced to what completion needs.
type compModel struct {
	Prog     string
	Globals  []compFlag
	Commands []compCmd
}

// completionModel walks kong's model: visible commands, their flags, and
// the global flags (kong's help flag included).
func completionModel(app *kong.Application) compModel {
	m := compModel{Prog: app.Name, Globals: compFlags(app.Flags)}
	for _, n := range app.Children {
		if n.Type != kong.CommandNode || n.Hidden {
			continue
		}
		c := compCmd{Name: n.Name, Help: n.Help, Flags: compFlags(n.Flags), Dynamic: dynamicKind(n.Name)}
		if len(n.Positional) > 0 && n.Positional[0].Enum != "" {
			c.Choices = strings.Split(n.Positional[0].Enum, ",")
		}
		m.Commands = append(m.Commands, c)
	}
	return m
}

func compFlags(flags []*kong.Flag) []compFlag {
	var out []compFlag
	for _, f := range flags {
		if f.Hidden {
			continue
		}
		cf := compFlag{Name: f.Name, Help: f.Help, Value: !f.IsBool() && !f.IsCounter()}
		cf.Files = f.PlaceHolder == "SOCKET" || f.PlaceHolder == "DIR" || f.PlaceHolder == "FILE"
		if f.Short != 0 {
			cf.Short = string(f.Short)
		}
		out = append(out, cf)
	}
	return out
}

// zshQuote makes help text safe inside a single-quoted _arguments spec or
// _describe entry: no quote to end the string, no bracket or colon to end
// the description early.
func zshQuote(s string) string {
	if i := strings.Index(s, ". "); i > 0 {
		s = s[:i]
	}
	r := strings.NewReplacer("'", "'\\''", "[", "(", "]", ")", ":", " -", "\\", "")
	return strings.TrimSuffix(r.Replace(s), ".")
}

// fishQuote makes help text safe in a single-quoted fish string.
func fishQuote(s string) string {
	if i := strings.Index(s, ". "); i > 0 {
		s = s[:i]
	}
	return strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(strings.TrimSuffix(s, "."))
}

// zshSpec is a flag as an _arguments spec: --json[help],
// --instance=[help]:N: or --server=[help]:SOCKET:_files.
func zshSpec(f compFlag, short bool) string {
	name := "--" + f.Name
	if short {
		name = "-" + f.Short
	}
	if !f.Value {
		return fmt.Sprintf("%s[%s]", name, zshQuote(f.Help))
	}
	action := ""
	if f.Files {
		action = "_files"
	}
	sep := "="
	if short {
		sep = "+"
	}
	return fmt.Sprintf("%s%s[%s]:%s:%s", name, sep, zshQuote(f.Help), strings.ToLower(f.Name), action)
}

// bashPattern is a case pattern matching the flags keep selects, or a
// pattern that matches nothing (an empty one would be a syntax error).
func bashPattern(keep func(compFlag) bool, lists ...[]compFlag) string {
	seen := map[string]bool{}
	var out []string
	for _, l := range lists {
		for _, f := range l {
			if !keep(f) || seen[f.Name] {
				continue
			}
			seen[f.Name] = true
			out = append(out, "--"+f.Name)
			if f.Short != "" {
				out = append(out, "-"+f.Short)
			}
		}
	}
	if len(out) == 0 {
		return "--never-a-flag--"
	}
	return strings.Join(out, "|")
}

// allFlags is every flag of the tree, for the patterns that must know
// whether the previous word wanted a value.
func (m compModel) allFlags() [][]compFlag {
	lists := [][]compFlag{m.Globals}
	for _, c := range m.Commands {
		lists = append(lists, c.Flags)
	}
	return lists
}

var funcs = template.FuncMap{
	"zspec": zshSpec,
	"fq":    fishQuote,
	"zq":    zshQuote,
	"join":  strings.Join,
	"words": func(fs []compFlag) string {
		var out []string
		for _, f := range fs {
			out = append(out, "--"+f.Name)
		}
		return strings.Join(out, " ")
	},
	"valuePattern": func(m compModel) string {
		return bashPattern(func(f compFlag) bool { return f.Value }, m.allFlags()...)
	},
	"filePattern": func(m compModel) string {
		return bashPattern(func(f compFlag) bool { return f.Files }, m.allFlags()...)
	},
}

func mustTmpl(name, text string) *template.Template {
	return template.Must(template.New(name).Funcs(funcs).Parse(text))
}
