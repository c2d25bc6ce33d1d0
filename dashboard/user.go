package dashboard

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// userBody is one user's page: the record, her keys, the home's usage and
// her sessions (each part may be missing, with the reason).
type userBody struct {
	User core.User
	// Groups are the groups given at create and the managed groups that
	// list her as a member (added later with group.member.add).
	Groups      []string
	Keys        []core.KeyInfo
	Usage       *core.Usage
	UsageErr    string
	Sessions    []core.Session
	SessionsErr string
}

func (d *Dashboard) user(c *gin.Context) {
	if !d.allowed(c, api.MUserGet) {
		return
	}
	ctx := c.Request.Context()
	u, err := d.svc.UserGet(ctx, c.Param("name"))
	if err != nil {
		d.failErr(c, err)
		return
	}
	b := userBody{User: u, Groups: slices.Clone(u.Groups)}
	if groups, err := d.svc.GroupList(ctx); err == nil {
		for _, g := range groups {
			if slices.Contains(g.Members, u.Name) && !slices.Contains(b.Groups, g.Name) {
				b.Groups = append(b.Groups, g.Name)
			}
		}
	}
	slices.Sort(b.Groups)
	for _, k := range u.SSHKeys {
		b.Keys = append(b.Keys, core.DescribeKey(k))
	}
	if us, err := d.svc.UserUsage(ctx, u.Name); err == nil {
		b.Usage = &us
	} else {
		b.UsageErr = api.FromError(err).Message
	}
	m, _ := api.Lookup(api.MSessionList)
	if !m.Allowed(whoOf(c).caller) {
		b.SessionsErr = "listing sessions needs " + d.cfg.Policy.Requirement()
	} else if b.Sessions, err = d.svc.SessionList(ctx, u.Name); err != nil {
		b.SessionsErr = api.FromError(err).Message
	}
	d.html(c, http.StatusOK, "user", page{Title: "User " + u.Name, Tab: "users", Live: "sessions", Body: b})
}

// userDelete deletes a user once the form repeats her name, so a stray
// click (or a keyboard slip) deletes nobody.
func (d *Dashboard) userDelete(c *gin.Context) {
	name := c.Param("name")
	if c.PostForm("confirm") != name {
		d.failErr(c, core.InvalidField("confirm", "type the user's name, %s, to confirm the delete", name))
		return
	}
	keep := c.PostForm("keep_home") != ""
	err := d.change(c, api.MUserDelete, name, func(ctx ctxT) error { return d.svc.UserDelete(ctx, name, keep) })
	if err != nil {
		d.failErr(c, err)
		return
	}
	msg := "Deleted user " + name + "."
	if keep {
		msg += " Her home is kept as a read-only snapshot."
	}
	d.done(c, "/users", msg)
}

// userReset re-applies the user's layout and shows what it repaired.
func (d *Dashboard) userReset(c *gin.Context) {
	name := c.Param("name")
	var repaired []string
	err := d.change(c, api.MUserReset, name, func(ctx ctxT) (err error) {
		repaired, err = d.svc.UserReset(ctx, name)
		return err
	})
	if err != nil {
		d.failErr(c, err)
		return
	}
	if len(repaired) == 0 {
		d.done(c, "/users/"+name, "Reset "+name+": nothing to repair.")
		return
	}
	d.done(c, "/users/"+name, "Reset "+name+": repaired "+strconv.Itoa(len(repaired))+" thing(s).", repaired...)
}

func (d *Dashboard) userLock(c *gin.Context)   { d.setLock(c, true) }
func (d *Dashboard) userUnlock(c *gin.Context) { d.setLock(c, false) }

func (d *Dashboard) setLock(c *gin.Context, lock bool) {
	name := c.Param("name")
	method, verb := api.MUserUnlock, "Unlocked "
	if lock {
		method, verb = api.MUserLock, "Locked "
	}
	err := d.change(c, method, name, func(ctx ctxT) error {
		var err error
		if lock {
			_, err = d.svc.UserLock(ctx, name)
		} else {
			_, err = d.svc.UserUnlock(ctx, name)
		}
		return err
	})
	if err != nil {
		d.failErr(c, err)
		return
	}
	d.done(c, "/users/"+name, verb+name+".")
}

func (d *Dashboard) userKeyAdd(c *gin.Context) {
	name := c.Param("name")
	keys, err := formKeys(c, c.PostForm("keys"), "keyfile")
	if err == nil {
		err = d.change(c, api.MUserKeyAdd, name, func(ctx ctxT) error {
			_, err := d.svc.UserKeyAdd(ctx, name, keys)
			return err
		})
	}
	if err != nil {
		d.failErr(c, err)
		return
	}
	d.done(c, "/users/"+name, "Added "+strconv.Itoa(len(keys))+" key(s) to "+name+".")
}

func (d *Dashboard) userKeyRemove(c *gin.Context) {
	name, key := c.Param("name"), strings.TrimSpace(c.PostForm("key"))
	err := d.change(c, api.MUserKeyRemove, name, func(ctx ctxT) error {
		_, err := d.svc.UserKeyRemove(ctx, name, key)
		return err
	})
	if err != nil {
		d.failErr(c, err)
		return
	}
	d.done(c, "/users/"+name, "Removed key "+key+" from "+name+".")
}

// userQuota sets the home's quota; "0" or "none" removes the limit.
func (d *Dashboard) userQuota(c *gin.Context) {
	name, raw := c.Param("name"), strings.TrimSpace(c.PostForm("quota"))
	if strings.EqualFold(raw, "none") {
		raw = "0"
	}
	q, err := core.ParseQuota("quota", raw)
	if err == nil {
		err = d.change(c, api.MUserQuotaSet, name, func(ctx ctxT) error {
			_, err := d.svc.UserQuotaSet(ctx, name, q)
			return err
		})
	}
	if err != nil {
		d.failErr(c, err)
		return
	}
	msg := "Quota of " + name + " set to " + humanBytes(q) + "."
	if q == 0 {
		msg = "Quota of " + name + " removed."
	}
	d.done(c, "/users/"+name, msg)
}
