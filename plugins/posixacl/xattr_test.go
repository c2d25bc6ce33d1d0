package posixacl

import (
	"bytes"
	"testing"
)

func TestCodec(t *testing.T) {
	l := parseACL(t, "u::rw-,u:1000:r-x,g::r--,g:27:rwx,m::rwx,o::---")
	b := encode(l)
	want := []byte{
		2, 0, 0, 0,
		1, 0, 6, 0, 0xff, 0xff, 0xff, 0xff,
		2, 0, 5, 0, 0xe8, 0x03, 0, 0,
		4, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
		8, 0, 7, 0, 27, 0, 0, 0,
		0x10, 0, 7, 0, 0xff, 0xff, 0xff, 0xff,
		0x20, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("encode:\n got %v\nwant %v", b, want)
	}
	back, err := decode(b)
	if err != nil || formatACL(back) != formatACL(l) {
		t.Fatalf("decode: %v %s", err, formatACL(back))
	}
	for _, bad := range [][]byte{nil, {2, 0, 0}, {1, 0, 0, 0}, append([]byte{2, 0, 0, 0}, 1, 0, 6)} {
		if _, err := decode(bad); err == nil {
			t.Errorf("decode(%v) accepted", bad)
		}
	}
}
