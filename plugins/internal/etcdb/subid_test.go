package etcdb

import (
	"strings"
	"testing"
)

// TestAddSubIDs follows useradd's find_free_range: the first hole of
// COUNT ids from MIN, over the ranges sorted by start, the new range
// appended after the sorted ones.
func TestAddSubIDs(t *testing.T) {
	s := SubIDs{Min: 100000, Max: 600100000, Count: 65536}
	cases := []struct{ name, in, want string }{
		{"empty file", "", "new:100000:65536\n"},
		{"after the last", "a:100000:65536\n", "a:100000:65536\nnew:165536:65536\n"},
		{"a hole first, sorted", "b:231072:65536\na:100000:65536\n", "a:100000:65536\nb:231072:65536\nnew:165536:65536\n"},
		{"a range below MIN", "x:1000:10\n", "x:1000:10\nnew:100000:65536\n"},
		{"overlapping MIN", "x:99000:2000\n", "x:99000:2000\nnew:101000:65536\n"},
	}
	for _, c := range cases {
		db := &DB{Tables: map[string]*Table{SubUID: ParseTable([]byte(c.in))}}
		if err := db.AddSubIDs(SubUID, "new", s); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := string(db.Tables[SubUID].Bytes()); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
	full := &DB{Tables: map[string]*Table{SubUID: ParseTable([]byte("a:100000:100\n"))}}
	if err := full.AddSubIDs(SubUID, "new", SubIDs{Min: 100000, Max: 100150, Count: 100}); err == nil || !strings.Contains(err.Error(), "no free") {
		t.Errorf("a full range: %v, want no free range", err)
	}
	none := &DB{Tables: map[string]*Table{}}
	if err := none.AddSubIDs(SubUID, "new", s); err != nil || none.Tables[SubUID] != nil {
		t.Errorf("no subuid file: %v; useradd adds none", err)
	}
}
