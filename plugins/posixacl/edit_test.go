package posixacl

import "testing"

// The expectations are what setfacl 2.3 leaves (the integration tests
// cross-check the same cases against the real tool), except where a
// revoke would widen access.
func TestGrant(t *testing.T) {
	cases := []struct{ name, acl, mods, want string }{
		{"named user on a minimal ACL adds a mask",
			"u::rw-,g::r--,o::r--", "u:1000:r-x", "u::rw-,u:1000:r-x,g::r--,m::r-x,o::r--"},
		{"replace keeps one entry per id, sorted",
			"u::rw-,u:1000:r-x,g::r--,m::r-x,o::r--", "u:1000:rw-,u:20:r--", "u::rw-,u:20:r--,u:1000:rw-,g::r--,m::rw-,o::r--"},
		{"mask recomputed, also narrower", "u::rw-,u:1000:rwx,g::r--,m::rwx,o::r--", "u:1000:r--", "u::rw-,u:1000:r--,g::r--,m::r--,o::r--"},
		{"explicit mask is kept", "u::rw-,g::r--,o::r--", "u:1000:rw-,m::r--", "u::rw-,u:1000:rw-,g::r--,m::r--,o::r--"},
		{"group entry in the union", "u::rw-,g::r--,o::r--", "g::rwx,g:27:r--", "u::rw-,g::rwx,g:27:r--,m::rwx,o::r--"},
		{"base entries only stay minimal", "u::rw-,g::r--,o::r--", "o::---,u::rwx", "u::rwx,g::r--,o::---"},
		{"mask alone makes it extended", "u::rw-,g::r--,o::r--", "m::rw-", "u::rw-,g::r--,m::rw-,o::r--"},
		{"mask stays after other change", "u::rw-,g::r--,m::rw-,o::r--", "o::---", "u::rw-,g::r--,m::r--,o::---"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := formatACL(grant(parseACL(t, c.acl), parseACL(t, c.mods)))
			if got != c.want {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestGrantDefault(t *testing.T) {
	access := parseACL(t, "u::rwx,g::r-x,o::---")
	cases := []struct{ name, def, mods, want string }{
		{"first named default entry seeds the base from access",
			"", "u:1000:r-x", "u::rwx,u:1000:r-x,g::r-x,m::r-x,o::---"},
		{"base only seeds without mask", "", "o::r--", "u::rwx,g::r-x,o::r--"},
		{"explicit default mask", "", "m::rwx", "u::rwx,g::r-x,m::rwx,o::---"},
		{"existing default kept", "u::rwx,g::---,o::---", "g:27:rwx", "u::rwx,g::---,g:27:rwx,m::rwx,o::---"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := formatACL(grantDefault(parseACL(t, c.def), access, parseACL(t, c.mods)))
			if got != c.want {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestRevoke(t *testing.T) {
	cases := []struct {
		name, acl, mods, want string
		ok                    bool
	}{
		{"named entry goes, mask stays recomputed",
			"u::rw-,u:1000:rwx,g::r--,m::rwx,o::r--", "u:1000:---", "u::rw-,g::r--,m::r--,o::r--", true},
		{"missing entry is no change, explicit mask kept",
			"u::rw-,u:1000:rw-,g::r--,m::r--,o::r--", "u:5:---", "u::rw-,u:1000:rw-,g::r--,m::r--,o::r--", true},
		{"recomputed mask never widens",
			"u::rw-,u:1000:rw-,u:1001:r--,g::r--,m::r--,o::r--", "u:1001:---", "u::rw-,u:1000:rw-,g::r--,m::r--,o::r--", true},
		{"mask removal narrows the owning group",
			"u::rw-,g::rwx,m::r--,o::r--", "m::---", "u::rw-,g::r--,o::r--", true},
		{"mask cannot go while named entries remain",
			"u::rw-,u:1000:r--,g::r--,m::r--,o::r--", "m::---", "", false},
		{"mask and the last named entry together",
			"u::rw-,u:1000:r--,g::r--,m::r--,o::r--", "u:1000:---,m::---", "u::rw-,g::r--,o::r--", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := revoke(parseACL(t, c.acl), parseACL(t, c.mods))
			if ok != c.ok || (ok && formatACL(got) != c.want) {
				t.Fatalf("got  %s %v\nwant %s %v", formatACL(got), ok, c.want, c.ok)
			}
		})
	}
}

func TestRevokeDefaultBaseDropsDefault(t *testing.T) {
	def := parseACL(t, "u::rwx,u:1000:r-x,g::r-x,m::r-x,o::---")
	if got, ok := revokeDefault(def, parseACL(t, "o::---")); !ok || len(got) != 0 {
		t.Fatalf("got %s %v", formatACL(got), ok)
	}
}

func TestWrites(t *testing.T) {
	for s, want := range map[string]bool{
		"u::rwx,g::r-x,o::r-x":                   false,
		"u::rwx,g::r-x,o::rwx":                   true,
		"u::rwx,u:1000:rw-,g::r-x,m::r-x,o::---": true,
		"u::rwx,g::rwx,m::r-x,o::---":            true,
	} {
		if got := writes(parseACL(t, s)); got != want {
			t.Errorf("writes(%s) = %v", s, got)
		}
	}
}
