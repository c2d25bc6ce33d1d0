package dashboard

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

func (d *Dashboard) groupRoutes(e *gin.Engine) {
	e.GET("/groups", d.groups)
	e.POST("/groups", d.groupCreate)
	e.GET("/groups/:name", d.group)
	e.POST("/groups/:name/delete", d.groupDelete)
	e.POST("/groups/:name/members", d.groupMemberAdd)
	e.POST("/groups/:name/members/remove", d.groupMemberRemove)
}

// groupsBody is the Groups tab: the groups and the create form's values
// after an error.
type groupsBody struct {
	Groups []core.Group
	Form   groupForm
}

type groupForm struct {
	Name, Description, Members, Quota string
	Shared                            bool
	Error                             string
}

func (d *Dashboard) groups(c *gin.Context) {
	d.groupsPage(c, http.StatusOK, groupForm{})
}

func (d *Dashboard) groupsPage(c *gin.Context, status int, form groupForm) {
	if !d.allowed(c, api.MGroupList) {
		return
	}
	list, err := d.svc.GroupList(c.Request.Context())
	if err != nil {
		d.failErr(c, err)
		return
	}
	d.html(c, status, "groups", page{Title: "Groups", Tab: "groups", Body: groupsBody{Groups: list, Form: form}})
}

func (d *Dashboard) groupCreate(c *gin.Context) {
	f := groupForm{
		Name: strings.TrimSpace(c.PostForm("name")), Description: strings.TrimSpace(c.PostForm("description")),
		Members: c.PostForm("members"), Quota: strings.TrimSpace(c.PostForm("quota")), Shared: c.PostForm("shared") != "",
	}
	g := core.Group{Name: f.Name, Description: f.Description, Members: splitList(f.Members), Shared: f.Shared}
	var err error
	if f.Quota != "" {
		g.QuotaBytes, err = core.ParseQuota("quota", f.Quota)
	}
	if err == nil {
		err = d.change(c, api.MGroupCreate, f.Name, func(ctx ctxT) (err error) {
			g, err = d.svc.GroupCreate(ctx, g)
			return err
		})
	}
	if err != nil {
		f.Error = api.FromError(err).Message
		d.groupsPage(c, statusOf(err), f)
		return
	}
	d.done(c, "/groups/"+g.Name, "Created group "+g.Name+".")
}

// groupBody is one group's page.
type groupBody struct {
	Group    core.Group
	Usage    *core.Usage
	UsageErr string
}

func (d *Dashboard) group(c *gin.Context) {
	if !d.allowed(c, api.MGroupGet) {
		return
	}
	g, err := d.svc.GroupGet(c.Request.Context(), c.Param("name"))
	if err != nil {
		d.failErr(c, err)
		return
	}
	b := groupBody{Group: g}
	if g.Volume != "" {
		if us, err := d.svc.GroupUsage(c.Request.Context(), g.Name); err == nil {
			b.Usage = &us
		} else {
			b.UsageErr = api.FromError(err).Message
		}
	}
	d.html(c, http.StatusOK, "group", page{Title: "Group " + g.Name, Tab: "groups", Body: b})
}

func (d *Dashboard) groupDelete(c *gin.Context) {
	name := c.Param("name")
	if c.PostForm("confirm") != name {
		d.failErr(c, core.InvalidField("confirm", "type the group's name, %s, to confirm the delete", name))
		return
	}
	keep := c.PostForm("keep_data") != ""
	if err := d.change(c, api.MGroupDelete, name, func(ctx ctxT) error { return d.svc.GroupDelete(ctx, name, keep) }); err != nil {
		d.failErr(c, err)
		return
	}
	d.done(c, "/groups", "Deleted group "+name+".")
}

func (d *Dashboard) groupMemberAdd(c *gin.Context)    { d.groupMember(c, true) }
func (d *Dashboard) groupMemberRemove(c *gin.Context) { d.groupMember(c, false) }

func (d *Dashboard) groupMember(c *gin.Context, add bool) {
	name, user := c.Param("name"), strings.TrimSpace(c.PostForm("user"))
	method, verb := api.MGroupMemberDel, "Removed "+user+" from "
	if add {
		method, verb = api.MGroupMemberAdd, "Added "+user+" to "
	}
	err := d.change(c, method, name, func(ctx ctxT) error {
		var err error
		if add {
			_, err = d.svc.GroupMemberAdd(ctx, name, user)
		} else {
			_, err = d.svc.GroupMemberRemove(ctx, name, user)
		}
		return err
	})
	if err != nil {
		d.failErr(c, err)
		return
	}
	d.done(c, "/groups/"+name, verb+name+".")
}
