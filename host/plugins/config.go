package plugins

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// configValues reads the values of key in file as sshd reads its
// sshd_config: keywords are case-insensitive and followed by their values
// (after spaces or one "="), "#" starts a comment, double quotes group a
// value, Include (with globs, relative paths beneath /etc/ssh) is read in
// place, the first occurrence of a keyword wins, and nothing after the
// first Match block counts (it applies to some connections only). A file
// that cannot be read has no values.
func configValues(file, key string) []string {
	vals, _ := scanConfig(file, strings.ToLower(key), 0)
	return vals
}

// maxIncludeDepth bounds Include chains (sshd's own limit is 16).
const maxIncludeDepth = 16

// scanConfig returns key's values and whether the scan is over (the key
// was found, or a Match block began).
func scanConfig(file, key string, depth int) ([]string, bool) {
	f, err := os.Open(file)
	if err != nil || depth > maxIncludeDepth {
		return nil, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := configFields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		switch kw := strings.ToLower(fields[0]); kw {
		case "match":
			return nil, true
		case "include":
			for _, pattern := range fields[1:] {
				if !filepath.IsAbs(pattern) {
					pattern = filepath.Join("/etc/ssh", pattern)
				}
				matches, _ := filepath.Glob(pattern)
				for _, m := range matches {
					if vals, done := scanConfig(m, key, depth+1); done {
						return vals, true
					}
				}
			}
		case key:
			return fields[1:], true
		}
	}
	return nil, false
}

// configFields splits one line into keyword and values: "#" ends it,
// "keyword=value" is "keyword value", and double quotes group.
func configFields(line string) []string {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return nil
	}
	if kw, rest, ok := strings.Cut(line, "="); ok && !strings.ContainsAny(kw, " \t") {
		line = kw + " " + rest
	}
	var out []string
	var cur strings.Builder
	quoted, have := false, false
	for _, r := range line {
		switch {
		case r == '"':
			quoted, have = !quoted, true
		case r == '#' && !quoted:
			return appendField(out, &cur, have)
		case (r == ' ' || r == '\t') && !quoted:
			out, have = appendField(out, &cur, have), false
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	return appendField(out, &cur, have)
}

func appendField(out []string, cur *strings.Builder, have bool) []string {
	if have {
		out = append(out, cur.String())
	}
	cur.Reset()
	return out
}
