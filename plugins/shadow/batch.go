package shadow

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// batch is one CreateUsers call: the specs (as the policy makes them),
// their results, and what the plan decided for each.
type batch struct {
	specs   []accounts.UserSpec
	out     []accounts.BatchResult
	fresh   []int       // created by newusers
	single  []int       // created one by one with useradd
	sameAs  map[int]int // a repeated identical spec → the first one
	rmHomes map[int]bool
	ids     map[int][2]uint32 // uid and gid newusers gives a fresh user
}

// CreateUsers creates many users in three tool runs however many there
// are: newusers writes every account in one locked pass, one gpasswd -M
// per group adds them to the marker and supplementary groups, and chpasswd
// -e sets every password field to "*". Every spec is judged by the policy
// and checked against the files first, so a refused spec, a name that
// exists, a taken uid or a missing group fails its own item only (newusers
// would otherwise modify an existing account, or silently share a uid).
//
// Between newusers and gpasswd the new accounts are outside the marker
// group, where no call may touch them; so before newusers runs, their
// names and uids go on the pending record (etcdb.PendingFile), from which
// they are dropped once they are in the marker group. A crash in between
// leaves them on it, and the host's rollback can delete them.
func (s *Shadow) CreateUsers(ctx context.Context, specs []accounts.UserSpec) ([]accounts.BatchResult, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	j, d, err := s.judged()
	if err != nil {
		return nil, err
	}
	b := &batch{specs: slices.Clone(specs), out: make([]accounts.BatchResult, len(specs)), sameAs: map[int]int{},
		rmHomes: map[int]bool{}, ids: map[int][2]uint32{}}
	s.plan(ctx, b, j, d)
	if len(b.fresh) > 0 {
		s.createFresh(ctx, b)
	}
	for _, i := range b.single {
		b.out[i].User, b.out[i].Err = s.createUser(ctx, b.specs[i])
	}
	for i, k := range b.sameAs {
		b.out[i] = b.out[k]
	}
	return b.out, nil
}

// plan sorts each spec into an error, an existing user, a copy of an
// earlier spec, a newusers line (with its ids allocated from the
// policy's ranges) or a single useradd.
func (s *Shadow) plan(ctx context.Context, b *batch, j *etcdb.Judge, d etcdb.Defs) {
	names := map[string]int{}
	uids := etcdb.NewAlloc(j.DB.UsedUIDs(), d.UIDMin, d.UIDMax)
	gids := etcdb.NewAlloc(j.DB.UsedGIDs(), d.GIDMin, d.GIDMax)
	for i, spec := range b.specs {
		var err error
		if err = etcdb.ValidateSpec(spec); err == nil {
			spec, err = j.Spec(spec, d)
		}
		if err != nil {
			b.out[i].Err = err
			continue
		}
		b.specs[i] = spec
		if k, dup := names[spec.Name]; dup {
			if reflect.DeepEqual(b.specs[k], spec) {
				b.sameAs[i] = k
			} else {
				b.out[i].Err = sdkerr.Errorf(sdkerr.AlreadyExists, "user %q is also specified, differently, at item %d", spec.Name, k)
			}
			continue
		}
		names[spec.Name] = i
		if j.DB.HasUser(spec.Name) {
			b.out[i].User, b.out[i].Err = s.existing(ctx, j, d, spec)
			continue
		}
		if err := checkFresh(j, spec, uids); err != nil {
			b.out[i].Err = err
			continue
		}
		if spec.UID != 0 {
			uids.Take(spec.UID)
		}
		s.place(b, i, d, uids, gids)
	}
}

// place puts a new user on the newusers list, with its ids, unless its
// home's parent is missing: newusers would fail the whole batch on the
// mkdir, so that user is made alone.
func (s *Shadow) place(b *batch, i int, d etcdb.Defs, uids, gids *etcdb.Alloc) {
	spec := b.specs[i]
	home := d.Home(spec)
	if _, err := os.Lstat(home); err != nil {
		if _, err := os.Stat(filepath.Dir(home)); err != nil {
			b.single = append(b.single, i)
			return
		}
		b.rmHomes[i] = !spec.CreateHome // newusers makes every missing home
	}
	uid, err := spec.UID, error(nil)
	if uid == 0 {
		uid, err = uids.Next()
	}
	var gid uint32
	if err == nil {
		gid, err = gids.Prefer(uid)
	}
	if err != nil {
		b.out[i].Err = err
		return
	}
	b.ids[i] = [2]uint32{uid, gid}
	b.fresh = append(b.fresh, i)
}

// checkFresh applies useradd's refusals that newusers lacks: a taken uid,
// and a group of the user's name (its own group is always new).
func checkFresh(j *etcdb.Judge, spec accounts.UserSpec, uids *etcdb.Alloc) error {
	if spec.UID != 0 && uids.Used(spec.UID) {
		return sdkerr.Errorf(sdkerr.AlreadyExists, "uid %d is taken", spec.UID)
	}
	return j.Fresh(spec)
}

// newusersInput is one passwd-like line per user, with the uid and gid
// the plan allocated: a gid no group has makes newusers create the user's
// own group, named like the user, with it. The password field is
// empty: newusers (built with PAM) hands a non-empty one to pam_chauthtok,
// which would hash it, so "*" would become a real password "*"; with an
// empty one the account keeps newusers' locked "!" until chpasswd sets "*".
func newusersInput(b *batch, idx []int, d etcdb.Defs) []byte {
	var buf bytes.Buffer
	for _, i := range idx {
		s, ids := b.specs[i], b.ids[i]
		fmt.Fprintf(&buf, "%s::%d:%d:%s:%s:%s\n", s.Name, ids[0], ids[1], s.GECOS, d.Home(s), d.ShellOf(s))
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
