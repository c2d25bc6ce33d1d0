package plugins

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// DefaultOSRelease is where the machine describes its distribution;
// /usr/lib/os-release is the fallback the os-release spec names.
const DefaultOSRelease = "/etc/os-release"

const fallbackOSRelease = "/usr/lib/os-release"

// Platform is what plugin selection looks at: the distribution from
// os-release and the filesystem type of the home root.
type Platform struct {
	ID        string   // os-release ID: "debian"
	IDLike    []string // os-release ID_LIKE: ["rhel", "fedora"]
	VersionID string   // os-release VERSION_ID: "12"
	FSType    string   // statfs type name of the home root: "btrfs", "ext4"
	// Exists reports whether a path a manifest requires is there; nil
	// means os.Stat on this machine.
	Exists func(path string) bool
	// Setting returns the values of key in a configuration file, for a
	// manifest's config matches; nil reads the file (configValues).
	Setting func(file, key string) []string
}

// setting answers a manifest's config matches.
func (p Platform) setting(file, key string) []string {
	if p.Setting != nil {
		return p.Setting(file, key)
	}
	return configValues(file, key)
}

// exists answers a manifest's require_paths.
func (p Platform) exists(path string) bool {
	if p.Exists != nil {
		return p.Exists(path)
	}
	_, err := os.Stat(path)
	return err == nil
}

// String renders the platform for logs and error messages.
func (p Platform) String() string {
	s := p.ID
	if p.VersionID != "" {
		s += " " + p.VersionID
	}
	if len(p.IDLike) > 0 {
		s += " (like " + strings.Join(p.IDLike, " ") + ")"
	}
	return fmt.Sprintf("%s, home root on %s", s, p.FSType)
}

// DetectPlatform reads os-release at osRelease ("" for the default, with
// the spec's fallback) and statfs's homeRoot.
func DetectPlatform(osRelease, homeRoot string) (Platform, error) {
	p, err := readOSRelease(osRelease)
	if err != nil {
		return Platform{}, err
	}
	p.FSType, err = FSType(homeRoot)
	if err != nil {
		return Platform{}, err
	}
	return p, nil
}

func readOSRelease(path string) (Platform, error) {
	candidates := []string{path}
	if path == "" {
		candidates = []string{DefaultOSRelease, fallbackOSRelease}
	}
	var err error
	for _, c := range candidates {
		var f *os.File
		if f, err = os.Open(c); err == nil {
			defer f.Close()
			return parseOSRelease(f)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	return Platform{}, fmt.Errorf("read os-release: %w", err)
}

// parseOSRelease reads the KEY=value lines of os-release(5): values may be
// quoted with " or ' and use backslash escapes; other lines are ignored.
func parseOSRelease(r io.Reader) (Platform, error) {
	var p Platform
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, raw, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(key, "#") {
			continue
		}
		val := unquote(strings.TrimSpace(raw))
		switch key {
		case "ID":
			p.ID = strings.ToLower(val)
		case "ID_LIKE":
			p.IDLike = strings.Fields(strings.ToLower(val))
		case "VERSION_ID":
			p.VersionID = val
		}
	}
	if err := sc.Err(); err != nil {
		return Platform{}, err
	}
	if p.ID == "" {
		p.ID = "linux" // the spec's default
	}
	return p, nil
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		v = v[1 : len(v)-1]
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// fsMagic names the statfs f_type values a home root is likely to have,
// in the words plugins use in their manifests (the names of mount -t).
var fsMagic = map[int64]string{
	unix.BTRFS_SUPER_MAGIC:     "btrfs",
	unix.EXT4_SUPER_MAGIC:      "ext4", // ext2 and ext3 share the magic
	unix.XFS_SUPER_MAGIC:       "xfs",
	unix.TMPFS_MAGIC:           "tmpfs",
	unix.OVERLAYFS_SUPER_MAGIC: "overlay",
	0x2fc12fc1:                 "zfs",
	unix.NFS_SUPER_MAGIC:       "nfs",
	unix.F2FS_SUPER_MAGIC:      "f2fs",
	0xca451a4e:                 "bcachefs",
	unix.REISERFS_SUPER_MAGIC:  "reiserfs",
	0x3153464a:                 "jfs",
	unix.FUSE_SUPER_MAGIC:      "fuse",
	unix.RAMFS_MAGIC:           "ramfs",
	unix.SQUASHFS_MAGIC:        "squashfs",
	unix.MSDOS_SUPER_MAGIC:     "vfat",
	unix.EXFAT_SUPER_MAGIC:     "exfat",
	unix.CEPH_SUPER_MAGIC:      "ceph",
	unix.CIFS_SUPER_MAGIC:      "cifs",
	unix.SMB2_SUPER_MAGIC:      "smb2",
	unix.V9FS_MAGIC:            "9p",
}

// FSTypeName names a statfs f_type; an unknown one is rendered in hex so
// a manifest can still name it.
func FSTypeName(magic int64) string {
	if name, ok := fsMagic[magic]; ok {
		return name
	}
	return "0x" + strconv.FormatInt(magic, 16)
}

// FSType returns the filesystem type name of the filesystem holding path.
func FSType(path string) (string, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return "", fmt.Errorf("statfs %s: %w", path, err)
	}
	return FSTypeName(int64(st.Type)), nil
}

// fsMatches reports whether a manifest's fs type name fits the machine's;
// ext2 and ext3 are ext4 to statfs.
func fsMatches(declared, actual string) bool {
	d := strings.ToLower(declared)
	if d == "ext2" || d == "ext3" {
		d = "ext4"
	}
	return d == actual
}
