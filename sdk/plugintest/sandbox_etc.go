package plugintest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/policy"
)

// ownerName is the name of the sandbox's managed account.
const ownerName = "ptest-owner"

// addOwner writes into upper the account files of src with the managed
// account the checks give files to: a free id within the policy's uid and
// gid ranges as uid and gid, its own group, membership of the marker
// group (made when there is none), and locked shadow and gshadow entries
// where those files are. Each file keeps its original's mode and owner.
func addOwner(src, upper string, p policy.Policy) (owner, error) {
	files := map[string][]string{}
	for _, name := range []string{"passwd", "group", "shadow", "gshadow"} {
		lines, err := readLines(filepath.Join(src, name))
		if err != nil && !(errors.Is(err, fs.ErrNotExist) && (name == "shadow" || name == "gshadow")) {
			return owner{}, err
		}
		files[name] = lines
	}
	uids, gids := idsOf(files["passwd"]), idsOf(files["group"])
	id, ok := uint32(0), false
	for c := min(p.UIDMax, p.GIDMax); c >= max(p.UIDMin, p.GIDMin) && c > 0; c-- {
		if !uids[c] && !gids[c] {
			id, ok = c, true
			break
		}
	}
	if !ok {
		return owner{}, errors.New("no free id in the policy's uid and gid ranges for the sandbox's account")
	}
	o := owner{uid: id, gid: id, name: ownerName}
	files["passwd"] = append(dropEntry(files["passwd"], o.name), fmt.Sprintf("%s:x:%d:%d:plugintest:/nonexistent:/usr/sbin/nologin", o.name, id, id))
	files["group"] = append(dropEntry(files["group"], o.name), fmt.Sprintf("%s:x:%d:", o.name, id))
	files["group"] = addMember(files["group"], p.MarkerGroup, o.name, func() string {
		for g := id - 1; g > 0; g-- {
			if !gids[g] {
				return fmt.Sprintf("%s:x:%d:", p.MarkerGroup, g)
			}
		}
		return ""
	})
	if files["shadow"] != nil {
		files["shadow"] = append(dropEntry(files["shadow"], o.name), o.name+":!:1::::::")
	}
	if files["gshadow"] != nil {
		files["gshadow"] = append(dropEntry(files["gshadow"], o.name), o.name+":!::")
		files["gshadow"] = addMember(files["gshadow"], p.MarkerGroup, o.name, func() string { return p.MarkerGroup + ":!::" })
	}
	for name, lines := range files {
		if lines == nil {
			continue
		}
		if err := writeLike(filepath.Join(src, name), filepath.Join(upper, name), strings.Join(lines, "\n")+"\n"); err != nil {
			return owner{}, err
		}
	}
	return o, nil
}

// writeLike writes data to dst with the mode and owner of like.
func writeLike(like, dst, data string) error {
	var st unix.Stat_t
	if err := unix.Stat(like, &st); err != nil {
		return err
	}
	if err := os.WriteFile(dst, []byte(data), 0o600); err != nil {
		return err
	}
	if err := os.Chown(dst, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	return os.Chmod(dst, os.FileMode(st.Mode&0o777))
}

func readLines(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimRight(string(data), "\n"), "\n"), nil
}

// idsOf is the set of ids in the third field of passwd or group lines.
func idsOf(lines []string) map[uint32]bool {
	out := map[uint32]bool{}
	for _, l := range lines {
		if f := strings.Split(l, ":"); len(f) > 2 {
			if n, err := strconv.ParseUint(f[2], 10, 32); err == nil {
				out[uint32(n)] = true
			}
		}
	}
	return out
}

func dropEntry(lines []string, name string) []string {
	out := lines[:0:0]
	for _, l := range lines {
		if !strings.HasPrefix(l, name+":") {
			out = append(out, l)
		}
	}
	return out
}

// addMember adds member to group's member list (the fourth field),
// adding the group's line (from newLine) when there is none.
func addMember(lines []string, group, member string, newLine func() string) []string {
	for i, l := range lines {
		f := strings.Split(l, ":")
		if f[0] != group || len(f) < 4 {
			continue
		}
		if f[3] == "" {
			f[3] = member
		} else {
			f[3] += "," + member
		}
		lines[i] = strings.Join(f, ":")
		return lines
	}
	if l := newLine(); l != "" {
		lines = append(lines, l+member)
	}
	return lines
}
