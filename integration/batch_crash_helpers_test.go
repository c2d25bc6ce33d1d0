//go:build integration

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// After a crash and a restart every user of a batch must be complete or
// absent, with nothing of an absent one on the machine. batchOutcome
// checks that, the way an admin would look: the four account files, the
// home root, and the state.

// acctView is one read of passwd, shadow, group and gshadow: the names of
// each file's entries, and the members of the marker group in group and
// gshadow.
type acctView struct {
	entries       map[string]map[string]bool // file → names
	marker, gmark map[string]bool
}

func readAcctView(t *testing.T) acctView {
	t.Helper()
	a := acctView{entries: map[string]map[string]bool{}}
	for _, f := range []string{"passwd", "shadow", "group", "gshadow"} {
		b, err := os.ReadFile("/etc/" + f)
		if err != nil {
			t.Fatal(err)
		}
		a.entries[f] = map[string]bool{}
		for _, line := range strings.Split(string(b), "\n") {
			fields := strings.Split(line, ":")
			if len(fields) < 3 {
				continue
			}
			a.entries[f][fields[0]] = true
			if fields[0] == "codescalers" {
				members := map[string]bool{}
				for _, m := range strings.Split(fields[len(fields)-1], ",") {
					members[m] = true
				}
				if f == "group" {
					a.marker = members
				} else if f == "gshadow" {
					a.gmark = members
				}
			}
		}
	}
	return a
}

// has reports how much of name's account the files hold: "all" (passwd,
// shadow, its group in group and gshadow, the marker group's member list
// in both), "none", or a description of the part.
func (a acctView) has(name string) string {
	var parts []string
	for _, f := range []string{"passwd", "shadow", "group", "gshadow"} {
		if a.entries[f][name] {
			parts = append(parts, f)
		}
	}
	if a.marker[name] {
		parts = append(parts, "marker in group")
	}
	if a.gmark[name] {
		parts = append(parts, "marker in gshadow")
	}
	switch len(parts) {
	case 0:
		return "none"
	case 6:
		return "all"
	}
	return strings.Join(parts, ", ")
}

// stateUsers lists every user the state holds.
func stateUsers(t *testing.T, h *hostUnderTest) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	after := ""
	for {
		var page api.UserListResult
		if e := h.call(api.MUserList, api.UserListParams{Limit: 1000, After: after}, &page); e != nil {
			t.Fatalf("user.list: %+v", e)
		}
		for _, u := range page.Users {
			out[u.Name] = true
		}
		if page.Next == "" {
			return out
		}
		after = page.Next
	}
}

// batchProblems lists, for the users names, whatever is not "complete or
// absent": a user partly in the account files, a home without its user or
// a user without its home, a record without both, anything a create left
// beside the homes (a temporary ".NAME.*"), an account still on the
// accounts plugins' pending record. It returns the complete users too.
func batchProblems(t *testing.T, h *hostUnderTest, names []string, homeBefore []string) (complete []string, problems []string) {
	t.Helper()
	acct := readAcctView(t)
	state := stateUsers(t, h)
	homes := map[string]bool{}
	for _, e := range homeRootEntries(t) {
		if !slices.Contains(homeBefore, e) {
			homes[e] = true
		}
	}
	for _, n := range names {
		a := acct.has(n)
		_, herr := os.Lstat("/home/" + n)
		home := herr == nil
		switch {
		case a == "all" && home && state[n]:
			complete = append(complete, n)
		case a == "none" && !home && !state[n]:
		default:
			problems = append(problems, fmt.Sprintf("%s: account %s, home %v, recorded %v", n, a, home, state[n]))
		}
		delete(homes, n)
	}
	for e := range homes {
		problems = append(problems, "stray entry in /home: "+e)
	}
	if b, err := os.ReadFile("/etc/hero_codescalers/pending-accounts"); err == nil {
		problems = append(problems, "accounts still on the pending record:\n"+string(b))
	}
	slices.Sort(problems)
	return complete, problems
}

// settled waits (recovery may still be retrying on a loaded machine) until
// every user of names is complete or absent, then checks it once more with
// pwck and grpck, and each complete user's layout; it returns the
// complete users.
func settled(t *testing.T, h *hostUnderTest, names, homeBefore []string, checks acctCheck) []string {
	t.Helper()
	var complete, problems []string
	ok := eventually(90*time.Second, func() bool {
		complete, problems = batchProblems(t, h, names, homeBefore)
		return len(problems) == 0
	})
	if !ok {
		t.Fatalf("after the restart, users are neither complete nor absent:\n%s\nhost log:\n%s", strings.Join(problems, "\n"), h.log)
	}
	checks.clean(t)
	for _, n := range complete {
		userComplete(t, h, n)
	}
	return complete
}

// writeCSV writes a batch of names for user-create --from, with uids from
// uid on (0: the OS allocates them) and quota for each ("": none).
func writeCSV(t *testing.T, names []string, uid int, quota string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("name,uid,quota,forge_token\n")
	for i, n := range names {
		id := ""
		if uid > 0 {
			id = fmt.Sprint(uid + i)
		}
		fmt.Fprintf(&b, "%s,%s,%s,tok-%s\n", n, id, quota, n)
	}
	file := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// batchNames are n user names with prefix.
func batchNames(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%03d", prefix, i)
	}
	return out
}

// deleteUsers deletes users through the API.
func deleteUsers(t *testing.T, h *hostUnderTest, names []string) {
	t.Helper()
	for _, n := range names {
		if e := h.call(api.MUserDelete, api.UserDeleteParams{Name: n}, nil); e != nil {
			t.Fatalf("delete %s: %+v", n, e)
		}
	}
}
