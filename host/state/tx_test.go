package state

import (
	"bytes"
	"testing"
)

func TestPrefixEnd(t *testing.T) {
	cases := []struct{ prefix, want string }{
		{"user/", "user0"},
		{"a", "b"},
		{"a\xff", "b"},
		{"a\xfe\xff", "a\xff"},
		{"\xff\xff", ""},
		{"", ""},
	}
	for _, c := range cases {
		got := prefixEnd([]byte(c.prefix))
		if !bytes.Equal(got, []byte(c.want)) || (c.want == "") != (got == nil) {
			t.Errorf("prefixEnd(%q) = %q, want %q", c.prefix, got, c.want)
		}
	}
}
