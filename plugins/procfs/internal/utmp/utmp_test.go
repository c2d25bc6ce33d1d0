package utmp

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	if !Supported() {
		t.Skip(ErrLayout)
	}
	want := []Record{
		{Type: UserProcess, PID: 4242, Line: "pts/3", ID: "ts/3", User: "alice", Host: "2001:db8::1",
			Session: 7, Time: time.Unix(1_700_000_123, 456_000)},
		{Type: DeadProcess, PID: 17, Line: "tty1", ID: "1", Time: time.Unix(1_700_000_000, 0)},
	}
	var b []byte
	for _, r := range want {
		b = append(b, Encode(r)...)
	}
	b = append(b, make([]byte, 100)...) // a torn record at the end is ignored
	got := Parse(b)
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestKnownBytes pins the offsets to glibc's struct utmp on x86_64
// (offsetof checked with gcc: pid 4, line 8, id 40, user 44, host 76,
// session 336, tv 340, size 384).
func TestKnownBytes(t *testing.T) {
	if !Supported() {
		t.Skip(ErrLayout)
	}
	r := make([]byte, RecordSize)
	r[0] = 7
	r[4], r[5] = 0x39, 0x05 // 1337
	copy(r[8:], "pts/0")
	copy(r[44:], "bob")
	copy(r[76:], "127.0.0.1")
	r[340], r[341], r[342], r[343] = 0x00, 0xf1, 0x53, 0x65 // 0x6553f100
	got := Parse(r)[0]
	if got.Type != UserProcess || got.PID != 1337 || got.Line != "pts/0" || got.User != "bob" ||
		got.Host != "127.0.0.1" || got.Time.Unix() != 0x6553f100 {
		t.Fatalf("got %+v", got)
	}
}

func TestRead(t *testing.T) {
	if !Supported() {
		t.Skip(ErrLayout)
	}
	dir := t.TempDir()
	recs, err := Read(filepath.Join(dir, "missing"))
	if err != nil || recs != nil {
		t.Fatalf("missing file: %v %v", recs, err)
	}
	file := filepath.Join(dir, "utmp")
	rec := Record{Type: UserProcess, PID: 9, Line: "pts/1", User: "carol", Time: time.Unix(1_700_000_000, 0)}
	if err := os.WriteFile(file, Encode(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	if recs, err := Read(file); err != nil || len(recs) != 1 || recs[0] != rec {
		t.Fatalf("got %v %v", recs, err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(link); err == nil {
		t.Fatal("read a utmp through a symlink")
	}
	if _, err := Read(dir); err == nil {
		t.Fatal("read a directory as utmp")
	}
}
