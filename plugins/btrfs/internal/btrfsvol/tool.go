package btrfsvol

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/osutil"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Tool is the Backend that runs btrfs-progs. Every path it passes is a
// /proc/<pid>/fd/<n>[/name] path (see fdPath): it starts with "/", so it
// can never be read as an option, and it resolves through the plugin's
// open descriptor. "--" still precedes the paths of the subcommands that
// accept it; `quota enable` and `quota rescan` of btrfs-progs 6.2 count
// their arguments and refuse a "--".
type Tool struct {
	Runner osutil.Runner
	// Bin is the btrfs executable; "btrfs" when empty.
	Bin string
}

var _ Backend = (*Tool)(nil)

func (t *Tool) Name() string { return "tool" }

func (t *Tool) run(ctx context.Context, args ...string) (string, error) {
	bin := t.Bin
	if bin == "" {
		bin = "btrfs"
	}
	out, err := t.Runner.Run(ctx, append([]string{bin}, args...), nil)
	return string(out), withErrno(err)
}

// stderrErrnos are the failures btrfs-progs reports with strerror's text;
// withErrno attaches the errno so callers branch the same way for both
// backends.
var stderrErrnos = []unix.Errno{unix.EEXIST, unix.ENOENT, unix.ENOTEMPTY, unix.EXDEV, unix.EPERM,
	unix.EACCES, unix.EROFS, unix.ENOSPC, unix.EDQUOT, unix.EBUSY, unix.ENOTCONN, unix.EINVAL}

func withErrno(err error) error {
	var e *sdkerr.Error
	if !errors.As(err, &e) || len(e.Command) == 0 {
		return err
	}
	low := strings.ToLower(e.Stderr)
	c := *e
	switch {
	case strings.Contains(low, "quota not enabled"), strings.Contains(low, "quotas not enabled"):
		c.Err = ErrQuotaDisabled
	case strings.Contains(low, "target path already exists"):
		c.Err = unix.EEXIST
	default:
		for _, n := range stderrErrnos {
			if strings.Contains(low, strings.ToLower(n.Error())) {
				c.Err = n
				break
			}
		}
	}
	return &c
}

func (t *Tool) SubvolInfo(ctx context.Context, fd int) (SubvolInfo, error) {
	if ok, err := isSubvolRoot(fd); err != nil || !ok {
		return SubvolInfo{}, firstErr(err, ErrNotSubvolume)
	}
	out, err := t.run(ctx, "subvolume", "show", "--", fdPath(fd, ""))
	if err != nil {
		return SubvolInfo{}, err
	}
	return parseShow(out)
}

// parseShow reads `btrfs subvolume show`: "Key: value" lines.
func parseShow(out string) (SubvolInfo, error) {
	var info SubvolInfo
	var err error
	for _, line := range strings.Split(out, "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch strings.TrimSpace(key) {
		case "Subvolume ID":
			info.ID, err = strconv.ParseUint(val, 10, 64)
		case "UUID":
			info.UUID = dashless(val)
		case "Parent UUID":
			info.ParentUUID = dashless(val)
		case "Flags":
			info.ReadOnly = strings.Contains(val, "readonly")
		case "Creation time":
			info.Created, err = time.Parse("2006-01-02 15:04:05 -0700", val)
		}
		if err != nil {
			return SubvolInfo{}, fmt.Errorf("btrfs subvolume show: %q: %w", line, err)
		}
	}
	if info.ID == 0 {
		return SubvolInfo{}, fmt.Errorf("btrfs subvolume show: no subvolume id in %q", out)
	}
	return info, nil
}

// dashless turns btrfs-progs' "-" (none) into "".
func dashless(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

func (t *Tool) CreateSubvolume(ctx context.Context, dirfd int, name string) error {
	_, err := t.run(ctx, "subvolume", "create", "--", fdPath(dirfd, name))
	return err
}

func (t *Tool) Snapshot(ctx context.Context, srcfd, dirfd int, name string, readOnly bool) error {
	args := []string{"subvolume", "snapshot"}
	if readOnly {
		args = append(args, "-r")
	}
	_, err := t.run(ctx, append(args, "--", fdPath(srcfd, ""), fdPath(dirfd, name))...)
	return err
}

func (t *Tool) DeleteSubvolume(ctx context.Context, dirfd int, name string) error {
	_, err := t.run(ctx, "subvolume", "delete", "--commit-after", "--", fdPath(dirfd, name))
	return err
}

// EnableQuota asks btrfs-progs for simple quotas first (`quota enable
// -s`, btrfs-progs ≥ 6.7 on Linux ≥ 6.7); an older btrfs-progs (Debian
// 12 has 6.2) answers with its usage, and an older kernel refuses, and
// both get full qgroups, under which only the Watcher keeps subvolumes
// made inside a volume within its limit.
func (t *Tool) EnableQuota(ctx context.Context, fd int) error {
	if _, err := t.run(ctx, "quota", "enable", "-s", fdPath(fd, "")); err == nil {
		return nil
	}
	_, err := t.run(ctx, "quota", "enable", fdPath(fd, ""))
	return err
}

func (t *Tool) WaitRescan(ctx context.Context, fd int) error {
	_, err := t.run(ctx, "quota", "rescan", "-W", fdPath(fd, ""))
	if errors.Is(err, ErrQuotaDisabled) {
		return nil
	}
	return err
}

func (t *Tool) StartRescan(ctx context.Context, fd int) error {
	_, err := t.run(ctx, "quota", "rescan", fdPath(fd, ""))
	if err != nil && strings.Contains(strings.ToLower(err.Error()), "in progress") {
		return nil
	}
	return err
}

// QuotaState reads the status the ioctl way: btrfs-progs 6.2 reports an
// inconsistent qgroup state only as a warning on stderr of a successful
// `qgroup show`, which a Runner does not return.
func (t *Tool) QuotaState(ctx context.Context, fd int) (QuotaState, error) {
	return Ioctl{}.QuotaState(ctx, fd)
}

func (t *Tool) SetLimit(ctx context.Context, fd int, q, bytes uint64) error {
	size := "none"
	if bytes > 0 {
		size = strconv.FormatUint(bytes, 10)
	}
	_, err := t.run(ctx, "qgroup", "limit", "--", size, qgroupName(q), fdPath(fd, ""))
	switch {
	case errors.Is(err, ErrQuotaDisabled):
		return ErrQuotaDisabled
	case errors.Is(err, unix.ENOENT):
		return fmt.Errorf("qgroup %s: %w", qgroupName(q), ErrNoQgroup)
	}
	return err
}

func (t *Tool) Qgroup(ctx context.Context, fd int, q uint64) (Qgroup, error) {
	rows, err := t.qgroups(ctx, fd)
	if err != nil {
		return Qgroup{}, err
	}
	for _, r := range rows {
		if r.ID == q {
			return r.Qgroup, nil
		}
	}
	return Qgroup{}, fmt.Errorf("qgroup %s: %w", qgroupName(q), ErrNoQgroup)
}

func (t *Tool) Parents(ctx context.Context, fd int, q uint64) ([]uint64, error) {
	rows, err := t.qgroups(ctx, fd)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r.ID == q {
			return r.parents, nil
		}
	}
	return nil, nil
}

// qgroups runs `btrfs qgroup show -pcre --raw`.
func (t *Tool) qgroups(ctx context.Context, fd int) ([]qgroupRow, error) {
	out, err := t.run(ctx, "qgroup", "show", "-pcre", "--raw", "--", fdPath(fd, ""))
	if errors.Is(err, ErrQuotaDisabled) {
		return nil, ErrQuotaDisabled
	} else if err != nil {
		return nil, err
	}
	return parseQgroupShow(out)
}

// qgroupRow is one line of `btrfs qgroup show -pcre --raw`.
type qgroupRow struct {
	Qgroup
	parents []uint64
}

// parseQgroupShow reads `btrfs qgroup show -pcre --raw`: qgroupid,
// referenced, exclusive, max referenced, max exclusive, parents and
// children (comma-separated, "-" for none), path.
func parseQgroupShow(out string) ([]qgroupRow, error) {
	var rows []qgroupRow
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 7 || !strings.Contains(f[0], "/") || f[0] == "--------" {
			continue
		}
		id, err0 := parseQgroupName(f[0])
		if err0 != nil {
			continue // the header
		}
		r := qgroupRow{Qgroup: Qgroup{ID: id}}
		var err1, err2, err3, err4 error
		r.Referenced, err1 = strconv.ParseUint(f[1], 10, 64)
		r.Exclusive, err2 = strconv.ParseUint(f[2], 10, 64)
		if f[3] != "none" {
			r.MaxRef, err3 = strconv.ParseUint(f[3], 10, 64)
		}
		if f[5] != "-" {
			for _, p := range strings.Split(f[5], ",") {
				q, err := parseQgroupName(p)
				err4 = firstErr(err4, err)
				r.parents = append(r.parents, q)
			}
		}
		if err := firstErr(err1, err2, err3, err4); err != nil {
			return nil, fmt.Errorf("btrfs qgroup show: %q: %w", line, err)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// parseQgroupName reads "level/id".
func parseQgroupName(s string) (uint64, error) {
	l, i, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("qgroup %q: not level/id", s)
	}
	level, err1 := strconv.ParseUint(l, 10, 16)
	id, err2 := strconv.ParseUint(i, 10, 48)
	if err := firstErr(err1, err2); err != nil {
		return 0, fmt.Errorf("qgroup %q: %w", s, err)
	}
	return level<<qgroupLevelShift | id, nil
}

func (t *Tool) CreateQgroup(ctx context.Context, fd int, q uint64) error {
	_, err := t.run(ctx, "qgroup", "create", "--", qgroupName(q), fdPath(fd, ""))
	if errors.Is(err, unix.EEXIST) {
		return nil
	}
	return err
}

// Relate runs `btrfs qgroup assign|remove --no-rescan`: rescans are the
// volume logic's to start, bounded, when the kernel marked the
// accounting inconsistent.
func (t *Tool) Relate(ctx context.Context, fd int, child, parent uint64, add bool) error {
	verb := "assign"
	if !add {
		verb = "remove"
	}
	_, err := t.run(ctx, "qgroup", verb, "--no-rescan", "--", qgroupName(child), qgroupName(parent), fdPath(fd, ""))
	switch {
	case add && errors.Is(err, unix.EEXIST), !add && errors.Is(err, unix.ENOENT):
		return nil
	}
	return err
}

func (t *Tool) DestroyQgroup(ctx context.Context, fd int, q uint64) error {
	_, err := t.run(ctx, "qgroup", "destroy", "--", qgroupName(q), fdPath(fd, ""))
	switch {
	case err == nil, errors.Is(err, unix.ENOENT), errors.Is(err, ErrQuotaDisabled):
		return nil
	case errors.Is(err, unix.EBUSY):
		return ErrQgroupBusy
	}
	return err
}

// Nested lists the filesystem's subvolumes and keeps those below the
// volume's path.
func (t *Tool) Nested(ctx context.Context, fd int, id uint64) ([]SubvolEntry, error) {
	all, err := t.Subvolumes(ctx, fd)
	if err != nil {
		return nil, err
	}
	return nestedIn(all, id), nil
}

// nestedIn picks from a filesystem's subvolumes (paths from the top
// level) those below subvolume id, with paths relative to it.
func nestedIn(all []SubvolEntry, id uint64) []SubvolEntry {
	prefix := ""
	for _, e := range all {
		if e.ID == id {
			prefix = e.Path + "/"
		}
	}
	var out []SubvolEntry
	if prefix == "" && id != topLevelID {
		return nil
	}
	for _, e := range all {
		if e.ID != id && strings.HasPrefix(e.Path, prefix) {
			e.Path = strings.TrimPrefix(e.Path, prefix)
			out = append(out, e)
		}
	}
	return out
}

func (t *Tool) Subvolumes(ctx context.Context, fd int) ([]SubvolEntry, error) {
	out, err := t.run(ctx, "subvolume", "list", "-a", "-q", "-u", "--", fdPath(fd, ""))
	if err != nil {
		return nil, err
	}
	return parseList(out)
}

// parseList reads `btrfs subvolume list -a -q -u`: "ID n gen g top level t
// parent_uuid P uuid U path PATH", the path last and possibly with spaces.
// Without -a, btrfs-progs prints the children of the given subvolume
// relative to it and every other path from the top level; with -a every
// path is from the top level, those outside the given subvolume prefixed
// "<FS_TREE>/".
func parseList(out string) ([]SubvolEntry, error) {
	var entries []SubvolEntry
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		head, path, ok := strings.Cut(line, " path ")
		f := strings.Fields(head)
		if !ok || len(f) < 2 || f[0] != "ID" {
			return nil, fmt.Errorf("btrfs subvolume list: cannot read %q", line)
		}
		id, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("btrfs subvolume list: %q: %w", line, err)
		}
		e := SubvolEntry{ID: id, Path: strings.TrimPrefix(path, "<FS_TREE>/")}
		for i := 2; i+1 < len(f); i++ {
			switch f[i] {
			case "parent_uuid":
				e.ParentUUID = dashless(f[i+1])
			case "uuid":
				e.UUID = dashless(f[i+1])
			}
		}
		entries = append(entries, e)
	}
	return entries, nil
}
