package mdsnippet

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	md := "# Guide\n\n```go file=main.go\npackage main\n\n```\n\ntext\n\n" +
		"- a step:\n\n  ```sh run\n  go build .\n  ```\n\n" +
		"````md\n```go\nnot a block\n```\n````\n\n~~~go\nx := 1 // an illustration\n~~~\n"
	blocks, err := Parse([]byte(md))
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 4 {
		t.Fatalf("%d blocks: %+v", len(blocks), blocks)
	}
	if b := blocks[0]; b.Lang != "go" || b.File != "main.go" || b.Text != "package main\n\n" || b.Line != 3 {
		t.Errorf("file block: %+v", b)
	}
	if b := blocks[1]; !b.Run || b.Text != "go build .\n" {
		t.Errorf("run block, indented in a list: %+v", b)
	}
	if b := blocks[2]; b.Lang != "md" || !strings.Contains(b.Text, "not a block") {
		t.Errorf("a longer fence holds a shorter one: %+v", b)
	}
	if b := blocks[3]; b.File != "" || b.Run || b.Text != "x := 1 // an illustration\n" {
		t.Errorf("illustration: %+v", b)
	}
	if f := Files(blocks); len(f) != 1 || f["main.go"] != "package main\n\n" {
		t.Errorf("Files: %v", f)
	}
}

func TestParseRefuses(t *testing.T) {
	for name, md := range map[string]string{
		"open":     "```go\nx\n",
		"absolute": "```go file=/etc/passwd\n```\n",
		"escape":   "```go file=../x.go\n```\n",
		"unclean":  "```go file=a//b.go\n```\n",
		"twice":    "```go file=a.go\n```\n```go file=a.go\n```\n",
		"file+run": "```sh file=a.sh run\n```\n",
		"file=":    "```go file=\n```\n",
		"file=.":   "```go file=.\n```\n",
	} {
		if _, err := Parse([]byte(md)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}
