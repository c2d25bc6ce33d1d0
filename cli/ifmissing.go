package cli

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// ensureReport is what user-create --if-missing prints: whether the user
// was created, and what converging an existing one changed.
type ensureReport struct {
	Name    string   `json:"name"`
	Created bool     `json:"created"`
	Changed []string `json:"changed"`
	DryRun  bool     `json:"dry_run,omitempty"`
	User    api.User `json:"user"`
}

// ensure is user-create --if-missing: a missing user is created; an
// existing managed user is converged to what the flags give (quota, keys
// added, groups joined) and what changed is reported, so a second run
// changes nothing and says so. What cannot change (uid, shell) and an
// account on the machine that the state does not know are conflicts
// (exit 7). The forge token cannot be read back and is not compared.
func (u *userCreateCmd) ensure(rt *runCtx, p api.UserCreateParams) error {
	c, err := rt.client()
	if err != nil {
		return err
	}
	have, err := c.UserGet(rt.ctx, p.Name)
	if err != nil {
		if !isCode(err, api.CodeNotFound) {
			return err
		}
		if u.DryRun {
			return rt.dryRun(api.PlanParams{Method: api.MUserCreate, User: &p})
		}
		user, err := c.UserCreate(rt.ctx, p)
		if isCode(err, api.CodeAlreadyExists) {
			return &exitError{code: ExitConflict, err: fmt.Errorf("%v: --if-missing converges users of the state only", err)}
		}
		if err != nil {
			return redact(err, p.ForgeToken)
		}
		return rt.emitEnsure(ensureReport{Name: p.Name, Created: true, Changed: []string{"created"}, User: user})
	}
	if err := conflicts(have, p); err != nil {
		return err
	}
	rep := ensureReport{Name: p.Name, Changed: []string{}, User: have, DryRun: u.DryRun}
	for _, ch := range u.changes(have, p) {
		rep.Changed = append(rep.Changed, ch.what)
		if u.DryRun {
			continue
		}
		if rep.User, err = ch.apply(rt); err != nil {
			return fmt.Errorf("%s: %w", ch.what, err)
		}
	}
	return rt.emitEnsure(rep)
}

// conflicts refuses what --if-missing cannot converge.
func conflicts(have api.User, p api.UserCreateParams) error {
	var diff []string
	if p.UID != nil && *p.UID != have.UID {
		diff = append(diff, fmt.Sprintf("uid %d, not %d", have.UID, *p.UID))
	}
	if p.Shell != "" && p.Shell != have.Shell {
		diff = append(diff, fmt.Sprintf("shell %s, not %s", have.Shell, p.Shell))
	}
	if len(diff) == 0 {
		return nil
	}
	return &exitError{code: ExitConflict, err: fmt.Errorf("user %s exists with %s; --if-missing cannot change that (delete and create it again)", p.Name, strings.Join(diff, " and "))}
}

// change is one step of converging a user.
type change struct {
	what  string
	apply func(rt *runCtx) (api.User, error)
}

// changes lists what differs between the user and the flags.
func (u *userCreateCmd) changes(have api.User, p api.UserCreateParams) []change {
	var out []change
	if p.Quota != "" {
		if want, err := api.ParseSize("quota", p.Quota); err == nil && want != have.QuotaBytes {
			out = append(out, change{fmt.Sprintf("quota %s -> %s", fmtQuota(have.QuotaBytes), fmtQuota(want)), func(rt *runCtx) (api.User, error) {
				return rt.cl.UserQuotaSet(rt.ctx, p.Name, p.Quota)
			}})
		}
	}
	var missing []string
	for _, k := range p.SSHKeys {
		if !hasKey(have.SSHKeys, k) {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		out = append(out, change{fmt.Sprintf("added %s", plural(len(missing), "ssh key")), func(rt *runCtx) (api.User, error) {
			return rt.cl.UserKeyAdd(rt.ctx, p.Name, missing)
		}})
	}
	for _, g := range p.Groups {
		if !slices.Contains(have.Groups, g) {
			out = append(out, change{"joined group " + g, func(rt *runCtx) (api.User, error) {
				if _, err := rt.cl.GroupMemberAdd(rt.ctx, g, p.Name); err != nil {
					return api.User{}, err
				}
				return rt.cl.UserGet(rt.ctx, p.Name)
			}})
		}
	}
	return out
}

// hasKey compares keys by type and blob, not comment or spacing.
func hasKey(keys []string, k string) bool {
	want := strings.Fields(k)
	for _, have := range keys {
		f := strings.Fields(have)
		if len(f) >= 2 && len(want) >= 2 && f[0] == want[0] && f[1] == want[1] {
			return true
		}
	}
	return false
}

func (rt *runCtx) emitEnsure(rep ensureReport) error {
	return rt.emit(rep, func(w io.Writer) {
		switch {
		case rep.Created:
			fmt.Fprintf(w, "created user %s: uid %d, home %s\n", rep.Name, rep.User.UID, rep.User.Home)
			writePublicKey(w, rep.Name, rep.User.PublicKey)
		case len(rep.Changed) == 0:
			fmt.Fprintf(w, "user %s exists and matches; nothing changed\n", rep.Name)
		case rep.DryRun:
			fmt.Fprintf(w, "dry run: user %s exists; --if-missing would change: %s\n", rep.Name, strings.Join(rep.Changed, "; "))
		default:
			fmt.Fprintf(w, "user %s exists; changed: %s\n", rep.Name, strings.Join(rep.Changed, "; "))
		}
	})
}

// isCode reports whether err is a host error with this JSON-RPC code.
func isCode(err error, code int) bool {
	var we *api.Error
	return errors.As(err, &we) && we.Code == code
}
