// Command debhardlink turns the copies of one file in a .deb back into
// hard links, in place: nfpm (make deb) packs every path of a tree as a
// file of its own, so the built-in plugins, one binary hard-linked by each
// plugin's name, would be packed and installed once per name (~16 MB
// each). Within each directory, an executable whose content, mode and
// owner equal an earlier one's becomes a tar hard link to it, which dpkg
// installs as a link (never in /etc, never across directories: lintian's
// package-contains-hardlink); Installed-Size in the control file drops by what
// the copies held. Only data.tar.gz and the control file change; md5sums
// still lists every path. Usage: debhardlink PACKAGE.deb
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: debhardlink PACKAGE.deb")
		os.Exit(2)
	}
	linked, saved, err := rewrite(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "debhardlink:", err)
		os.Exit(1)
	}
	fmt.Printf("debhardlink: %d files packed as hard links (%.1f MB not installed twice)\n", linked, float64(saved)/1e6)
}

// rewrite links the copies in the package at path and replaces it.
func rewrite(pkg string) (linked int, saved int64, err error) {
	raw, err := os.ReadFile(pkg)
	if err != nil {
		return 0, 0, err
	}
	members, err := readAr(raw)
	if err != nil {
		return 0, 0, err
	}
	var data, control *member
	for i := range members {
		switch members[i].name {
		case "data.tar.gz":
			data = &members[i]
		case "control.tar.gz":
			control = &members[i]
		case "data.tar.xz", "data.tar.zst", "data.tar":
			return 0, 0, fmt.Errorf("%s: only a gzip data.tar is handled (nfpm's default)", members[i].name)
		}
	}
	if data == nil || control == nil {
		return 0, 0, errors.New("no data.tar.gz or control.tar.gz: not a package nfpm made")
	}
	if data.body, linked, saved, err = linkCopies(data.body); err != nil {
		return 0, 0, err
	}
	if linked == 0 {
		return 0, 0, nil
	}
	if control.body, err = shrinkInstalledSize(control.body, saved); err != nil {
		return 0, 0, err
	}
	tmp := pkg + ".tmp"
	if err := os.WriteFile(tmp, writeAr(members), 0o644); err != nil {
		return 0, 0, err
	}
	return linked, saved, os.Rename(tmp, pkg)
}

// member is one file of the ar archive a .deb is.
type member struct {
	name   string
	header []byte // the 60-byte header as read; its size field is rewritten
	body   []byte
}

const arMagic = "!<arch>\n"

func readAr(b []byte) ([]member, error) {
	if !bytes.HasPrefix(b, []byte(arMagic)) {
		return nil, errors.New("not an ar archive")
	}
	b = b[len(arMagic):]
	var ms []member
	for len(b) > 0 {
		if len(b) < 60 || string(b[58:60]) != "`\n" {
			return nil, errors.New("truncated or malformed ar header")
		}
		h := b[:60]
		size, err := strconv.ParseInt(strings.TrimSpace(string(h[48:58])), 10, 64)
		if err != nil || size < 0 || int64(len(b)-60) < size {
			return nil, fmt.Errorf("ar member size %q", h[48:58])
		}
		name := strings.TrimSuffix(strings.TrimSpace(string(h[:16])), "/")
		ms = append(ms, member{name: name, header: append([]byte(nil), h...), body: b[60 : 60+size]})
		b = b[60+size:]
		if size%2 == 1 && len(b) > 0 {
			b = b[1:]
		}
	}
	return ms, nil
}

func writeAr(ms []member) []byte {
	var out bytes.Buffer
	out.WriteString(arMagic)
	for _, m := range ms {
		h := append([]byte(nil), m.header...)
		copy(h[48:58], fmt.Sprintf("%-10d", len(m.body)))
		out.Write(h)
		out.Write(m.body)
		if len(m.body)%2 == 1 {
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// linkCopies rewrites a gzip tar, each copy of an earlier regular file of
// the same directory as a hard link to it.
func linkCopies(gz []byte) ([]byte, int, int64, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, 0, 0, err
	}
	tr := tar.NewReader(zr)
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	tw := tar.NewWriter(zw)
	first := map[string]string{} // dir, mode, owner and content digest → the first path
	var linked int
	var saved int64
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, 0, err
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			return nil, 0, 0, err
		}
		if h.Typeflag == tar.TypeReg && h.Mode&0o111 != 0 && len(body) > 0 && !strings.HasPrefix(path.Clean(h.Name), "etc/") {
			sum := sha256.Sum256(body)
			key := fmt.Sprintf("%s %o %s:%s %d:%d %x", path.Dir(h.Name), h.Mode, h.Uname, h.Gname, h.Uid, h.Gid, sum)
			if target, dup := first[key]; dup {
				linked++
				saved += int64(len(body))
				h.Typeflag, h.Linkname, h.Size, body = tar.TypeLink, target, 0, nil
			} else {
				first[key] = h.Name
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, 0, 0, err
		}
		if _, err := tw.Write(body); err != nil {
			return nil, 0, 0, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, 0, 0, err
	}
	if err := zw.Close(); err != nil {
		return nil, 0, 0, err
	}
	return out.Bytes(), linked, saved, nil
}

var installedSize = regexp.MustCompile(`(?m)^Installed-Size: (\d+)$`)

// shrinkInstalledSize lowers the control file's Installed-Size (KiB) by
// saved bytes.
func shrinkInstalledSize(gz []byte, saved int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		if path.Clean(h.Name) == "control" {
			m := installedSize.FindSubmatchIndex(body)
			if m == nil {
				return nil, errors.New("control file has no Installed-Size")
			}
			kib, _ := strconv.ParseInt(string(body[m[2]:m[3]]), 10, 64)
			kib = max(0, kib-saved/1024)
			body = append(append(append([]byte(nil), body[:m[2]]...), strconv.FormatInt(kib, 10)...), body[m[3]:]...)
			h.Size = int64(len(body))
			found = true
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(body); err != nil {
			return nil, err
		}
	}
	if !found {
		return nil, errors.New("control.tar.gz holds no control file")
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
