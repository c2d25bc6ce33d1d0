package etcdb

import (
	"bytes"
	"strings"
)

// Table is one colon-separated account file. Every line is kept in order;
// a line nobody changed is written back exactly as it was read, so comments,
// NIS "+"/"-" entries and odd spacing survive an edit.
type Table struct {
	lines []line
	index map[string]int // record name → position in lines; nil when stale
	noEOL bool           // the last line had no newline
	edits int            // how many Put and Delete calls changed it
}

type line struct {
	raw    string
	fields []string // nil for a line that is not a record
}

// ParseTable splits data into lines and records. A record is a non-empty
// line that is not a comment and not a NIS compat entry.
func ParseTable(data []byte) *Table {
	t := &Table{}
	text := string(data)
	if text == "" {
		return t
	}
	if strings.HasSuffix(text, "\n") {
		text = text[:len(text)-1]
	} else {
		t.noEOL = true
	}
	for _, raw := range strings.Split(text, "\n") {
		l := line{raw: raw}
		if isRecord(raw) {
			l.fields = strings.Split(raw, ":")
		}
		t.lines = append(t.lines, l)
	}
	return t
}

func isRecord(raw string) bool {
	return raw != "" && !strings.HasPrefix(raw, "#") && !strings.HasPrefix(raw, "+") && !strings.HasPrefix(raw, "-")
}

// Bytes renders the table, one line each, newline-terminated (except a
// last line read without one, so an unchanged file renders as it was).
func (t *Table) Bytes() []byte {
	var b bytes.Buffer
	for i, l := range t.lines {
		b.WriteString(l.raw)
		if i < len(t.lines)-1 || !t.noEOL {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

func (t *Table) reindex() {
	t.index = make(map[string]int, len(t.lines))
	for i, l := range t.lines {
		if l.fields == nil {
			continue
		}
		if _, dup := t.index[l.fields[0]]; !dup {
			t.index[l.fields[0]] = i // the first entry wins, as for getpwnam
		}
	}
}

func (t *Table) find(name string) int {
	if t.index == nil {
		t.reindex()
	}
	if i, ok := t.index[name]; ok {
		return i
	}
	return -1
}

// Get returns a copy of the named record's fields, or nil.
func (t *Table) Get(name string) []string {
	if t == nil {
		return nil
	}
	i := t.find(name)
	if i < 0 {
		return nil
	}
	return append([]string(nil), t.lines[i].fields...)
}

// Field returns field n of the named record, "" when either is missing.
func (t *Table) Field(name string, n int) string {
	f := t.Get(name)
	if n >= len(f) {
		return ""
	}
	return f[n]
}

// Put replaces the named record (fields[0]) in place, or adds it before the
// first NIS compat entry (where shadow-utils adds it too), else at the end.
func (t *Table) Put(fields []string) {
	l := line{raw: strings.Join(fields, ":"), fields: append([]string(nil), fields...)}
	t.edits++
	if i := t.find(fields[0]); i >= 0 {
		t.lines[i] = l
		return
	}
	at := len(t.lines)
	for i, old := range t.lines {
		if strings.HasPrefix(old.raw, "+") || strings.HasPrefix(old.raw, "-") {
			at = i
			break
		}
	}
	if at == len(t.lines) {
		t.noEOL = false // the old last line now needs its newline
	}
	t.lines = append(t.lines, line{})
	copy(t.lines[at+1:], t.lines[at:])
	t.lines[at] = l
	if at == len(t.lines)-1 && t.index != nil {
		t.index[fields[0]] = at
	} else {
		t.index = nil
	}
}

// Delete removes every record of that name and reports whether one existed.
func (t *Table) Delete(name string) bool {
	if t == nil {
		return false
	}
	kept := t.lines[:0]
	found := false
	for _, l := range t.lines {
		if l.fields != nil && l.fields[0] == name {
			found = true
			continue
		}
		kept = append(kept, l)
	}
	t.lines = kept
	t.index = nil
	t.edits++
	return found
}

// Records calls fn with each record's fields (not a copy: do not keep or
// change them) in file order.
func (t *Table) Records(fn func(fields []string)) {
	if t == nil {
		return
	}
	for _, l := range t.lines {
		if l.fields != nil {
			fn(l.fields)
		}
	}
}

// Names lists the record names in file order.
func (t *Table) Names() []string {
	var out []string
	t.Records(func(f []string) { out = append(out, f[0]) })
	return out
}

// SplitList splits a comma-separated member list; "" is no members.
func SplitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
