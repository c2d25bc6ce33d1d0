package plugintest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// fenced are the concerns that place files, and so must refuse a path
// outside their policy's roots (sdk/fsutil).
var fenced = map[string]bool{sdk.ConcernVolumes: true, sdk.ConcernACL: true, sdk.ConcernSSHKeys: true}

// fence asks the plugin to act on a directory beneath none of its
// policy's roots — the sandbox's outside directory, or outside the
// machine's roots without a sandbox — and checks that every call is
// refused (permission_denied, as the sdk's fence answers) and that
// nothing there appeared or changed.
func (k *kit) fence(ctx context.Context, concern string) error {
	raw, err := k.rpc.Dispense(concern)
	if err != nil {
		return err
	}
	outside, err := k.outsideDir(concern)
	if err != nil {
		return err
	}
	target := filepath.Join(outside, "target")
	if err := os.WriteFile(target, []byte("keep\n"), 0o600); err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(outside, "home"), 0o755); err != nil {
		return err
	}
	before, err := snapshotDir(outside)
	if err != nil {
		return err
	}
	var calls []badCase
	switch concern {
	case sdk.ConcernVolumes:
		calls = fenceVolumes(raw.(volumes.Volumes), outside, k.owner)
	case sdk.ConcernACL:
		calls = fenceACL(raw.(acl.ACL), target, k.owner)
	case sdk.ConcernSSHKeys:
		calls = fenceSSHKeys(raw.(sshkeys.SSHKeys), outside, k.owner)
	}
	var problems, notes []string
	for _, c := range calls {
		cctx, cancel := k.call(ctx)
		err := c.call(cctx)
		cancel()
		switch {
		case err == nil:
			problems = append(problems, c.what+": accepted")
		case !sdkerr.Is(err, sdkerr.PermissionDenied) && k.ready:
			problems = append(problems, fmt.Sprintf("%s: want permission_denied, got %s", c.what, describe(err)))
		case !sdkerr.Is(err, sdkerr.PermissionDenied):
			notes = append(notes, fmt.Sprintf("%s: %s", c.what, sdkerr.CodeOf(err)))
		}
	}
	after, err := snapshotDir(outside)
	if err != nil {
		return err
	}
	if d := diffSnapshots(before, after); d != "" {
		problems = append(problems, "outside its roots the plugin changed: "+d)
	}
	if len(problems) > 0 {
		return joinProblems(problems)
	}
	note := fmt.Sprintf("%d calls on %s refused; nothing there changed", len(calls), outside)
	if len(notes) > 0 {
		note += " (not ready, refused with " + strings.Join(notes, ", ") + ")"
	}
	return passNote(note)
}

// outsideDir is a fresh directory beneath none of the plugin's roots: in
// the sandbox's outside directory, or next to the scratch directory when
// there is no sandbox (the machine's policy does not reach /tmp).
func (k *kit) outsideDir(concern string) (string, error) {
	base := ""
	if k.sandbox != nil {
		base = k.sandbox.outside
	}
	dir, err := os.MkdirTemp(base, "ptest-outside-"+concern+"-")
	if err != nil {
		return "", err
	}
	return dir, os.Chmod(dir, 0o755)
}

func fenceVolumes(v volumes.Volumes, outside string, o owner) []badCase {
	dir := volumes.Owner{UID: o.uid, GID: o.gid, Mode: 0o755}
	file := volumes.Owner{UID: o.uid, GID: o.gid, Mode: 0o600}
	return []badCase{
		{"WriteFile outside", func(ctx context.Context) error {
			return v.WriteFile(ctx, filepath.Join(outside, "written"), []byte("x"), file)
		}},
		{"WriteFile over a file outside", func(ctx context.Context) error {
			return v.WriteFile(ctx, filepath.Join(outside, "target"), []byte("x"), file)
		}},
		{"EnsureDir outside", func(ctx context.Context) error { return v.EnsureDir(ctx, filepath.Join(outside, "dir"), dir) }},
		{"EnsureDir of a directory outside", func(ctx context.Context) error { return v.EnsureDir(ctx, outside, dir) }},
		{"CreateVolume outside", func(ctx context.Context) error {
			_, err := v.CreateVolume(ctx, volumes.VolumeSpec{Path: filepath.Join(outside, "vol"), Owner: dir})
			return err
		}},
	}
}

func fenceACL(a acl.ACL, target string, o owner) []badCase {
	return []badCase{
		{"Grant outside", func(ctx context.Context) error {
			return a.Grant(ctx, target, []acl.Entry{{Tag: acl.TagOther, Perms: "rw"}}, false)
		}},
		{"Grant recursive on a directory outside", func(ctx context.Context) error {
			return a.Grant(ctx, filepath.Dir(target), []acl.Entry{{Tag: acl.TagOther, Perms: "rwx"}}, true)
		}},
		{"SetOwnership outside", func(ctx context.Context) error { return a.SetOwnership(ctx, target, o.uid, o.gid, 0o666) }},
	}
}

func fenceSSHKeys(s sshkeys.SSHKeys, outside string, o owner) []badCase {
	home := filepath.Join(outside, "home")
	return []badCase{
		{"AddAuthorizedKeys under a directory outside", func(ctx context.Context) error {
			_, err := s.AddAuthorizedKeys(ctx, home, o.uid, o.gid, []string{sshkeys.FakePublicKey("ptest-fence")})
			return err
		}},
		{"GenerateKeypair in a directory outside", func(ctx context.Context) error {
			_, err := s.GenerateKeypair(ctx, sshkeys.KeypairSpec{Dir: filepath.Join(outside, "keys"), UID: o.uid, GID: o.gid})
			return err
		}},
	}
}

// entryState is what the fence check compares of one entry: type, mode,
// owner, size, content of a small file, and its ACL.
type entryState struct {
	mode, uid, gid uint32
	size           int64
	data, acl      string
}

// snapshotDir records every entry below dir (not following links).
func snapshotDir(dir string) (map[string]entryState, error) {
	out := map[string]entryState{}
	err := filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		e := entryState{mode: st.Mode, uid: st.Uid, gid: st.Gid, size: st.Size}
		if st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size < 4096 {
			data, _ := os.ReadFile(p)
			e.data = string(data)
		}
		buf := make([]byte, 512)
		if n, err := unix.Lgetxattr(p, "system.posix_acl_access", buf); err == nil {
			e.acl = string(buf[:n])
		} else if !errors.Is(err, unix.ENODATA) && !errors.Is(err, unix.EOPNOTSUPP) {
			e.acl = err.Error()
		}
		out[p] = e
		return nil
	})
	return out, err
}

func diffSnapshots(before, after map[string]entryState) string {
	var diffs []string
	for p, a := range after {
		b, ok := before[p]
		switch {
		case !ok:
			diffs = append(diffs, p+" appeared")
		case a != b:
			diffs = append(diffs, p+" changed")
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			diffs = append(diffs, p+" vanished")
		}
	}
	slices.Sort(diffs)
	return strings.Join(diffs, ", ")
}
