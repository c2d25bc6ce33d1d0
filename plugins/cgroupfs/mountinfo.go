package cgroupfs

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Parent is the cgroup hero_codescalers owns in each hierarchy: every
// user's cgroup is a child of it (user-UID), and the plugin writes
// nowhere else but the cgroup.procs it moves processes into.
const Parent = "hero_codescalers"

// Layout is where the machine's cgroup controllers are, as
// /proc/self/mountinfo says — never assumed. V1 holds the mount points of
// the v1 memory and cpu controllers (a legacy or hybrid machine: the v1
// controllers, and perhaps a nearly empty v2 hierarchy beside them); V2
// the cgroup2 mount, used only when no v1 memory controller is mounted
// (a unified machine).
type Layout struct {
	Memory string // v1 memory controller's mount point
	CPU    string // v1 cpu controller's mount point ("" when unmounted)
	V2     string // cgroup2 mount point, when the machine is unified
}

// Version is 1 or 2, or 0 when no usable hierarchy is mounted.
func (l Layout) Version() int {
	switch {
	case l.Memory != "":
		return 1
	case l.V2 != "":
		return 2
	}
	return 0
}

// Parents are the parent cgroups of every hierarchy the plugin uses.
func (l Layout) Parents() []string {
	var out []string
	for _, mnt := range []string{l.Memory, l.CPU, l.V2} {
		if mnt != "" {
			out = append(out, filepath.Join(mnt, Parent))
		}
	}
	return out
}

// ReadLayout reads a mountinfo file (/proc/self/mountinfo).
func ReadLayout(path string) (Layout, error) {
	f, err := os.Open(path)
	if err != nil {
		return Layout{}, err
	}
	defer f.Close()
	return parseMountinfo(f)
}

// parseMountinfo finds the cgroup mounts of proc(5)'s mountinfo lines:
// "36 25 0:31 / /sys/fs/cgroup/memory rw,relatime shared:5 - cgroup cgroup rw,memory".
// The first mount of each controller wins; a mount whose root is not the
// hierarchy's root (a bind of a sub-cgroup) is skipped, since a path
// beneath it would not name the cgroup it seems to.
func parseMountinfo(r io.Reader) (Layout, error) {
	var l Layout
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 || f[3] != "/" {
			continue
		}
		mnt := unescape(f[4])
		switch g[0] {
		case "cgroup2":
			if l.V2 == "" {
				l.V2 = mnt
			}
		case "cgroup":
			opts := strings.Split(g[2], ",")
			if slices.Contains(opts, "memory") && l.Memory == "" {
				l.Memory = mnt
			}
			if slices.Contains(opts, "cpu") && l.CPU == "" {
				l.CPU = mnt
			}
		}
	}
	if l.Memory != "" {
		l.V2 = "" // hybrid: the controllers are v1's; the v2 hierarchy has none of them
	} else {
		l.CPU = ""
	}
	return l, sc.Err()
}

// unescape undoes mountinfo's octal escapes of space, tab, newline and \.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, ok := octal(s[i+1 : i+4]); ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func octal(s string) (byte, bool) {
	if len(s) != 3 {
		return 0, false
	}
	var v int
	for _, c := range s {
		if c < '0' || c > '7' {
			return 0, false
		}
		v = v*8 + int(c-'0')
	}
	return byte(v), v < 256
}
