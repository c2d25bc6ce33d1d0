package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// batch is one CreateUsers call: the specs, their results, and what the
// plan decided for each.
type batch struct {
	specs   []accounts.UserSpec
	out     []accounts.BatchResult
	fresh   []int       // created by newusers
	single  []int       // created one by one with useradd
	sameAs  map[int]int // a repeated identical spec → the first one
	rmHomes map[int]bool
}

// CreateUsers creates many users in three tool runs however many there
// are: newusers writes every account in one locked pass, chpasswd -e sets
// every password field to "*" in a second, and one gpasswd -M per group
// adds them to the marker and supplementary groups. Every spec is checked
// against the files first, so names that exist, uids that are taken and
// missing groups fail their own item only (newusers would otherwise modify
// an existing account, or silently share a uid).
func (s *Shadow) CreateUsers(ctx context.Context, specs []accounts.UserSpec) ([]accounts.BatchResult, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	db, d, err := s.load()
	if err != nil {
		return nil, err
	}
	b := &batch{specs: specs, out: make([]accounts.BatchResult, len(specs)), sameAs: map[int]int{}, rmHomes: map[int]bool{}}
	s.plan(ctx, b, db, d)
	if len(b.fresh) > 0 {
		s.createFresh(ctx, b)
	}
	for _, i := range b.single {
		b.out[i].User, b.out[i].Err = s.createUser(ctx, specs[i])
	}
	for i, j := range b.sameAs {
		b.out[i] = b.out[j]
	}
	return b.out, nil
}

// plan sorts each spec into an error, an existing user, a copy of an
// earlier spec, a newusers line or a single useradd.
func (s *Shadow) plan(ctx context.Context, b *batch, db *etcdb.DB, d etcdb.Defs) {
	names := map[string]int{}
	uids := db.UsedUIDs()
	for i, spec := range b.specs {
		if err := etcdb.ValidateSpec(spec); err != nil {
			b.out[i].Err = err
			continue
		}
		if j, dup := names[spec.Name]; dup {
			if reflect.DeepEqual(b.specs[j], spec) {
				b.sameAs[i] = j
			} else {
				b.out[i].Err = sdkerr.Errorf(sdkerr.AlreadyExists, "user %q is also specified, differently, at item %d", spec.Name, j)
			}
			continue
		}
		names[spec.Name] = i
		if db.HasUser(spec.Name) {
			b.out[i].User, b.out[i].Err = s.existing(ctx, db, d, spec)
			continue
		}
		if err := checkFresh(db, spec, uids); err != nil {
			b.out[i].Err = err
			continue
		}
		if spec.UID != 0 {
			uids[spec.UID] = true
		}
		home := d.Home(spec)
		if _, err := os.Lstat(home); err == nil {
			b.fresh = append(b.fresh, i)
		} else if _, err := os.Stat(filepath.Dir(home)); err == nil {
			b.fresh = append(b.fresh, i)
			b.rmHomes[i] = !spec.CreateHome // newusers makes every missing home
		} else {
			b.single = append(b.single, i) // newusers would fail the batch on mkdir
		}
	}
}

// checkFresh applies useradd's refusals that newusers lacks.
func checkFresh(db *etcdb.DB, spec accounts.UserSpec, uids map[uint32]bool) error {
	if spec.UID != 0 && uids[spec.UID] {
		return sdkerr.Errorf(sdkerr.AlreadyExists, "uid %d is taken", spec.UID)
	}
	if spec.PrimaryGroup == "" {
		if _, ok := db.GID(spec.Name); ok {
			return sdkerr.Errorf(sdkerr.AlreadyExists, "group %q exists; name a primary group to use it", spec.Name)
		}
	}
	return db.CheckGroups("groups", append([]string{spec.PrimaryGroup}, spec.Groups...)...)
}

// newusersInput is one passwd-like line per user. The password field is
// empty: newusers (built with PAM) hands a non-empty one to pam_chauthtok,
// which would hash it, so "*" would become a real password "*"; with an
// empty one the account keeps newusers' locked "!" until chpasswd sets "*".
func newusersInput(specs []accounts.UserSpec, idx []int, d etcdb.Defs) []byte {
	var buf bytes.Buffer
	for _, i := range idx {
		s := specs[i]
		uid := ""
		if s.UID != 0 {
			uid = strconv.FormatUint(uint64(s.UID), 10)
		}
		group := s.PrimaryGroup
		if group == "" {
			group = s.Name // a group of the user's name, gid = uid when free
		}
		fmt.Fprintf(&buf, "%s::%s:%s:%s:%s:%s\n", s.Name, uid, group, s.GECOS, d.Home(s), d.ShellOf(s))
	}
	return buf.Bytes()
}

// chpasswdInput sets each user's password field to "*" verbatim (-e).
func chpasswdInput(names []string) []byte {
	var buf bytes.Buffer
	for _, n := range names {
		fmt.Fprintf(&buf, "%s:%s\n", n, lockedPassword)
	}
	return buf.Bytes()
}

// memberships maps each group to the new users that join it.
func memberships(specs []accounts.UserSpec, idx []int) map[string][]string {
	out := map[string][]string{}
	for _, i := range idx {
		for _, g := range supplementary(specs[i].Groups, specs[i].MarkerGroup) {
			out[g] = append(out[g], specs[i].Name)
		}
	}
	return out
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// fail sets err on every item of idx.
func (b *batch) fail(idx []int, err error) {
	for _, i := range idx {
		b.out[i].Err = err
	}
}

func names(specs []accounts.UserSpec, idx []int) []string {
	out := make([]string, len(idx))
	for k, i := range idx {
		out[k] = specs[i].Name
	}
	return out
}

// joinMembers is the new member list of a group: the current one plus the
// newcomers, in order, without repeats.
func joinMembers(current, add []string) string {
	seen := map[string]bool{}
	var out []string
	for _, m := range append(append([]string(nil), current...), add...) {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return strings.Join(out, ",")
}
