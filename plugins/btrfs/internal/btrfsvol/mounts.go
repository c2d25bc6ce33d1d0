package btrfsvol

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// mount is one line of /proc/self/mountinfo that matters here: where a
// filesystem is mounted, which of its directories (for btrfs: which
// subvolume path) is mounted there, and its type.
type mount struct {
	Point, Root, FSType string
}

// mountOf returns the mount holding p: the last listed mount whose mount
// point is p or an ancestor of it (a later mount hides an earlier one).
func mountOf(p string) (mount, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return mount{}, err
	}
	defer f.Close()
	return findMount(f, p)
}

func findMount(r io.Reader, p string) (mount, error) {
	var best mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m, ok := parseMountinfo(sc.Text())
		if !ok || !within(p, m.Point) {
			continue
		}
		if len(m.Point) >= len(best.Point) {
			best = m
		}
	}
	if err := sc.Err(); err != nil {
		return mount{}, err
	}
	if best.Point == "" {
		return mount{}, fmt.Errorf("no mount holds %s", p)
	}
	return best, nil
}

// parseMountinfo reads "id parent maj:min root point opts [tags] - type src super".
func parseMountinfo(line string) (mount, bool) {
	f := strings.Fields(line)
	if len(f) < 7 {
		return mount{}, false
	}
	for i := 6; i+1 < len(f); i++ {
		if f[i] == "-" {
			return mount{Root: unescape(f[3]), Point: unescape(f[4]), FSType: f[i+1]}, true
		}
	}
	return mount{}, false
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1:i+4]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '7' {
			return false
		}
	}
	return len(s) == 3
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	return dir == "/" || p == dir || strings.HasPrefix(p, dir+"/")
}

// absPath maps a subvolume's path from the top level of its filesystem to
// where it can be reached under mount m; false when m does not expose it.
func (m mount) absPath(fromTop string) (string, bool) {
	p := "/" + fromTop
	if !within(p, m.Root) {
		return "", false
	}
	rel := strings.TrimPrefix(p, strings.TrimSuffix(m.Root, "/"))
	return path.Join(m.Point, rel), true
}
