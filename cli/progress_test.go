package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestBar(t *testing.T) {
	for _, tc := range []struct {
		done, total, failed int
		want                string
	}{
		{0, 100, 0, "[                              ] 0/100"},
		{40, 100, 0, "[############                  ] 40/100"},
		{100, 100, 3, "[##############################] 100/100 (3 failed)"},
		{0, 0, 0, "[##############################] 0/0"},
	} {
		if got := bar(tc.done, tc.total, tc.failed); got != tc.want {
			t.Errorf("bar(%d, %d, %d) = %q, want %q", tc.done, tc.total, tc.failed, got, tc.want)
		}
	}
}

// TestProgressPlainIsSparse: off a terminal, a thousand small steps make
// about ten lines, the last one always.
func TestProgressPlainIsSparse(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, "x", 1000, false)
	for done := 10; done <= 1000; done += 10 {
		p.update(done, 0)
	}
	p.finish()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 11 || lines[0] != "x: 10/1000 done, 0 failed" || lines[10] != "x: 1000/1000 done, 0 failed" {
		t.Fatalf("%d lines:\n%s", len(lines), b.String())
	}
	if strings.Contains(b.String(), "\r") {
		t.Fatal("carriage return off a terminal")
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.CreateTemp(shortDir(t), "f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(&bytes.Buffer{}) || isTerminal(f) {
		t.Fatal("a buffer or a regular file is no terminal")
	}
}
