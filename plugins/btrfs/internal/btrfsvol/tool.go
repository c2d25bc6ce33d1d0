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

func (t *Tool) EnableQuota(ctx context.Context, fd int) error {
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

func (t *Tool) SetLimit(ctx context.Context, fd int, id, bytes uint64) error {
	size := "none"
	if bytes > 0 {
		size = strconv.FormatUint(bytes, 10)
	}
	_, err := t.run(ctx, "qgroup", "limit", "--", size, qgroupID(id), fdPath(fd, ""))
	if errors.Is(err, ErrQuotaDisabled) {
		return ErrQuotaDisabled
	}
	return err
}

func qgroupID(id uint64) string { return "0/" + strconv.FormatUint(id, 10) }

func (t *Tool) Qgroup(ctx context.Context, fd int, id uint64) (Qgroup, error) {
	out, err := t.run(ctx, "qgroup", "show", "-re", "--raw", "--", fdPath(fd, ""))
	if errors.Is(err, ErrQuotaDisabled) {
		return Qgroup{}, ErrQuotaDisabled
	} else if err != nil {
		return Qgroup{}, err
	}
	return parseQgroupShow(out, id)
}

// parseQgroupShow finds qgroup 0/id in `btrfs qgroup show -re --raw`:
// qgroupid, referenced, exclusive, max referenced, max exclusive, path.
func parseQgroupShow(out string, id uint64) (Qgroup, error) {
	want := qgroupID(id)
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || f[0] != want {
			continue
		}
		q := Qgroup{ID: id}
		var err1, err2, err3 error
		q.Referenced, err1 = strconv.ParseUint(f[1], 10, 64)
		q.Exclusive, err2 = strconv.ParseUint(f[2], 10, 64)
		if f[3] != "none" {
			q.MaxRef, err3 = strconv.ParseUint(f[3], 10, 64)
		}
		if err := firstErr(err1, err2, err3); err != nil {
			return Qgroup{}, fmt.Errorf("btrfs qgroup show: %q: %w", line, err)
		}
		return q, nil
	}
	return Qgroup{}, fmt.Errorf("qgroup %s: %w", want, ErrNoQgroup)
}

func (t *Tool) DestroyQgroup(ctx context.Context, fd int, id uint64) error {
	_, err := t.run(ctx, "qgroup", "destroy", "--", qgroupID(id), fdPath(fd, ""))
	switch {
	case err == nil, errors.Is(err, unix.ENOENT), errors.Is(err, ErrQuotaDisabled):
		return nil
	case errors.Is(err, unix.EBUSY):
		return ErrQgroupBusy
	}
	return err
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
