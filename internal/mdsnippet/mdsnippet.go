// Package mdsnippet reads the fenced code blocks of a Markdown guide, so a
// test can build what the guide tells its reader to write and run what it
// tells them to run. A block's info string is its language and then
// attributes: "go file=main.go" is the whole of a file, "sh run" a
// command sequence the reader runs; a block without either is an
// illustration and is not extracted.
package mdsnippet

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"strings"
)

// Block is one fenced code block.
type Block struct {
	Lang string // the info string's first word
	File string // file=NAME: the block is that file, whole
	Run  bool   // run: the block is commands to run, in order
	Text string // the block's lines, each ending in a newline
	Line int    // the line of the opening fence, from 1
}

// Parse returns the fenced blocks of md in order. It fails on a fence left
// open, on a file name that is not a clean relative path, and on a file
// given twice.
func Parse(md []byte) ([]Block, error) {
	var (
		out   []Block
		cur   *Block
		fence string
		strip int // the opening fence's indent, taken off each line
		body  strings.Builder
		seen  = map[string]int{}
	)
	sc := bufio.NewScanner(bytes.NewReader(md))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		indent := len(line) - len(trimmed)
		if cur == nil {
			if indent > 3 || !(strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")) {
				continue
			}
			ch := trimmed[:1]
			i := strings.IndexFunc(trimmed, func(r rune) bool { return string(r) != ch })
			if i < 0 {
				i = len(trimmed)
			}
			b, err := parseInfo(trimmed[i:], n)
			if err != nil {
				return nil, err
			}
			if b.File != "" {
				if first, dup := seen[b.File]; dup {
					return nil, fmt.Errorf("line %d: file=%s given again (first at line %d)", n, b.File, first)
				}
				seen[b.File] = n
			}
			cur, fence, strip = &b, trimmed[:i], indent
			body.Reset()
			continue
		}
		if indent <= 3 && strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]+" ") == "" {
			cur.Text = body.String()
			out = append(out, *cur)
			cur = nil
			continue
		}
		for i := 0; i < strip && strings.HasPrefix(line, " "); i++ {
			line = line[1:]
		}
		body.WriteString(line + "\n")
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if cur != nil {
		return nil, fmt.Errorf("line %d: code block never closed", cur.Line)
	}
	return out, nil
}

func parseInfo(info string, line int) (Block, error) {
	f := strings.Fields(info)
	b := Block{Line: line}
	if len(f) == 0 {
		return b, nil
	}
	b.Lang = f[0]
	for _, a := range f[1:] {
		switch k, v, _ := strings.Cut(a, "="); k {
		case "file":
			if v == "" || path.IsAbs(v) || path.Clean(v) != v || v == "." || strings.HasPrefix(v, "../") {
				return b, fmt.Errorf("line %d: file=%q is not a clean relative path", line, v)
			}
			b.File = v
		case "run":
			b.Run = true
		}
	}
	if b.File != "" && b.Run {
		return b, fmt.Errorf("line %d: a block is a file or commands to run, not both", line)
	}
	return b, nil
}

// Files returns the blocks marked file=NAME, by name.
func Files(blocks []Block) map[string]string {
	out := map[string]string{}
	for _, b := range blocks {
		if b.File != "" {
			out[b.File] = b.Text
		}
	}
	return out
}
