// Package config reads the host's configuration file,
// /etc/hero_codescalers/config.toml by default: every host setting the
// flags have, in TOML, one key per flag. It only reads and remembers where
// each key stands (its line), so that package cli can layer the file
// between the environment and the defaults (flags > environment > file >
// defaults), validate each value with the file's line in the error, and
// say in `config show` where every effective value came from.
package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// DefaultPath is the system-wide file the package installs.
const DefaultPath = "/etc/hero_codescalers/config.toml"

// EnvPath names another file, below --config and above DefaultPath.
const EnvPath = "HERO_CODESCALERS_CONFIG"

// File is a parsed configuration file.
type File struct {
	Path   string
	values map[string]any // key (table.key for tables) -> decoded value
	lines  map[string]int
}

// Load reads path. A missing file is (nil, nil) when optional (the
// default path: a host needs no file), an error otherwise. A file that is
// not TOML, or holds a key not in keys, is an error with its line.
// keys lists the known keys; a table is "name.*" (any key beneath it).
func Load(path string, optional bool, keys []string) (*File, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && optional {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	f := &File{Path: path, values: map[string]any{}, lines: keyLines(data)}
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s:%d: %s", path, pe.Position.Line, pe.Message)
		}
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	for k, v := range raw {
		if sub, ok := v.(map[string]any); ok && slices.Contains(keys, k+".*") {
			for sk, sv := range sub {
				f.values[k+"."+sk] = sv
			}
			continue
		}
		if !slices.Contains(keys, k) {
			return nil, f.Errorf(k, "unknown setting (known: %s)", strings.Join(keys, ", "))
		}
		f.values[k] = v
	}
	return f, nil
}

// Keys are the keys the file sets, sorted.
func (f *File) Keys() []string {
	if f == nil {
		return nil
	}
	out := make([]string, 0, len(f.values))
	for k := range f.values {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Get is a key's value as TOML decoded it (string, int64, bool, []any,
// ...), and whether the file sets it.
func (f *File) Get(key string) (any, bool) {
	if f == nil {
		return nil, false
	}
	v, ok := f.values[key]
	return v, ok
}

// Line is the line that sets key, 0 when unknown.
func (f *File) Line(key string) int {
	if f == nil {
		return 0
	}
	return f.lines[key]
}

// Where is "path:line" of key, as errors and config show name it.
func (f *File) Where(key string) string {
	if n := f.Line(key); n > 0 {
		return fmt.Sprintf("%s:%d", f.Path, n)
	}
	return f.Path
}

// Errorf is an error about key's value, prefixed by the file and line.
func (f *File) Errorf(key, format string, args ...any) error {
	return fmt.Errorf("%s: %s: %s", f.Where(key), key, fmt.Sprintf(format, args...))
}

// keyLines finds the line of every key: "key" at the top level and
// "table.key" beneath a [table] header. The settings are flat, so a line
// scanner suffices; a multi-line array's later lines hold no key.
func keyLines(data []byte) map[string]int {
	lines := map[string]int{}
	table, n, depth := "", 0, 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if depth > 0 { // inside a multi-line array
			depth += strings.Count(line, "[") - strings.Count(line, "]")
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			table = strings.Trim(strings.TrimSpace(strings.SplitN(line, "#", 2)[0]), "[] ")
			lines[table] = n
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		key = strings.Trim(strings.TrimSpace(key), `"'`)
		if table != "" {
			key = table + "." + key
		}
		if _, seen := lines[key]; !seen {
			lines[key] = n
		}
		depth = strings.Count(val, "[") - strings.Count(val, "]")
	}
	return lines
}
