package cli

import (
	"strings"
	"testing"
)

// TestPrintableCells: a table cell is one line of plain text: an escape
// sequence a plugin answered is shown, not obeyed, and a line break does
// not break the table.
func TestPrintableCells(t *testing.T) {
	for in, want := range map[string]string{
		"pts/1":                    "pts/1",
		"\x1b[31mred\x1b[0m":       `\x1b[31mred\x1b[0m`,
		"two\nlines\ttab":          "two lines tab",
		"csi \u009b2J and bell \a": `csi \u009b2J and bell \a`,
		"ünïcode":                  "ünïcode",
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
	var b strings.Builder
	row(&b, "s1", "\x1b]0;pwned\a", "")
	if got := b.String(); strings.ContainsAny(got, "\x1b\a") || got != "s1\t\\x1b]0;pwned\\a\t-\n" {
		t.Errorf("row: %q", got)
	}
}
