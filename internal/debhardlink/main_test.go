package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func tarGz(t *testing.T, files map[string]string, order []string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	for _, name := range order {
		body, mode := files[name], int64(0o755)
		if strings.HasSuffix(name, ".json") || strings.HasSuffix(name, "control") {
			mode = 0o644
		}
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(body)), Uname: "root", Gname: "root"})
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	return b.Bytes()
}

func TestRewriteLinksCopiesWithinADir(t *testing.T) {
	bin := strings.Repeat("multi-call binary ", 4096) // 72 KiB
	data := tarGz(t, map[string]string{
		"./usr/lib/p/multi": bin, "./usr/lib/p/files": bin, "./usr/lib/p/shadow": bin,
		"./usr/lib/p/files.manifest.json": "{}", "./usr/lib/p/shadow.manifest.json": "{}",
		"./usr/bin/multi": bin, // another dir: a copy, not a link
	}, []string{"./usr/lib/p/multi", "./usr/lib/p/files", "./usr/lib/p/files.manifest.json", "./usr/lib/p/shadow",
		"./usr/lib/p/shadow.manifest.json", "./usr/bin/multi"})
	control := tarGz(t, map[string]string{"./control": "Package: x\nInstalled-Size: 300\nDescription: y\n"}, []string{"./control"})
	hdr := func(name string) []byte {
		h := []byte(strings.Repeat(" ", 58) + "`\n")
		copy(h, name)
		copy(h[16:], "0")
		copy(h[40:], "100644")
		return h
	}
	deb := filepath.Join(t.TempDir(), "x.deb")
	os.WriteFile(deb, writeAr([]member{{"debian-binary", hdr("debian-binary"), []byte("2.0\n")},
		{"control.tar.gz", hdr("control.tar.gz"), control}, {"data.tar.gz", hdr("data.tar.gz"), data}}), 0o644)

	linked, saved, err := rewrite(deb)
	if err != nil {
		t.Fatal(err)
	}
	if linked != 2 || saved != int64(2*len(bin)) {
		t.Fatalf("linked %d, saved %d", linked, saved)
	}
	raw, _ := os.ReadFile(deb)
	ms, err := readAr(raw)
	if err != nil || len(ms) != 3 || string(ms[0].body) != "2.0\n" {
		t.Fatalf("ar after rewrite: %v %d", err, len(ms))
	}
	got := map[string]*tar.Header{}
	zr, _ := gzip.NewReader(bytes.NewReader(ms[2].body))
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[h.Name] = h
	}
	for _, name := range []string{"./usr/lib/p/files", "./usr/lib/p/shadow"} {
		if h := got[name]; h == nil || h.Typeflag != tar.TypeLink || h.Linkname != "./usr/lib/p/multi" {
			t.Errorf("%s: %+v, want a hard link to ./usr/lib/p/multi", name, h)
		}
	}
	for _, name := range []string{"./usr/lib/p/multi", "./usr/bin/multi", "./usr/lib/p/shadow.manifest.json"} {
		if h := got[name]; h == nil || h.Typeflag != tar.TypeReg {
			t.Errorf("%s: %+v, want a regular file", name, h)
		}
	}
	zr, _ = gzip.NewReader(bytes.NewReader(ms[1].body))
	tr = tar.NewReader(zr)
	tr.Next()
	ctl, _ := io.ReadAll(tr)
	if want := "Installed-Size: 156\n"; !strings.Contains(string(ctl), want) { // 300 - 144 KiB
		t.Errorf("control:\n%s\nwant %q", ctl, want)
	}
}
