package posixacl

import (
	"strconv"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/aclfs"
)

var shortTags = map[string]tag{"u": tagUser, "g": tagGroup, "m": tagMask, "o": tagOther}

// parseACL reads setfacl's short form: "u::rw-,u:1000:r--,g::r--,m::r--,o::r--".
func parseACL(t *testing.T, s string) []entry {
	t.Helper()
	var out []entry
	if s == "" {
		return out
	}
	for _, f := range strings.Split(s, ",") {
		parts := strings.Split(f, ":")
		if len(parts) != 3 {
			t.Fatalf("bad entry %q", f)
		}
		e := entry{Tag: shortTags[parts[0]], Perm: aclfs.PermBits(parts[2]), ID: undefinedID}
		switch {
		case parts[1] != "":
			id, err := strconv.Atoi(parts[1])
			if err != nil {
				t.Fatalf("bad id in %q", f)
			}
			e.ID = uint32(id)
		case e.Tag == tagUser:
			e.Tag = tagUserObj
		case e.Tag == tagGroup:
			e.Tag = tagGroupObj
		}
		out = append(out, e)
	}
	return out
}

// formatACL writes the same short form.
func formatACL(l []entry) string {
	var parts []string
	for _, e := range l {
		var s string
		switch e.Tag {
		case tagUserObj:
			s = "u:"
		case tagUser:
			s = "u:" + strconv.Itoa(int(e.ID))
		case tagGroupObj:
			s = "g:"
		case tagGroup:
			s = "g:" + strconv.Itoa(int(e.ID))
		case tagMask:
			s = "m:"
		case tagOther:
			s = "o:"
		}
		parts = append(parts, s+":"+aclfs.PermString(e.Perm))
	}
	return strings.Join(parts, ",")
}
