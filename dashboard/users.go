package dashboard

import (
	"context"
	"html"
	"html/template"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

type ctxT = context.Context

// userPage is how many users a page of the Users tab shows.
const userPage = 50

func (d *Dashboard) userRoutes(e *gin.Engine) {
	e.GET("/users", d.users)
	e.GET("/users/new", d.userNew)
	e.POST("/users", d.userCreate)
	e.GET("/users/:name", d.user)
	e.POST("/users/:name/delete", d.userDelete)
	e.POST("/users/:name/reset", d.userReset)
	e.POST("/users/:name/lock", d.userLock)
	e.POST("/users/:name/unlock", d.userUnlock)
	e.POST("/users/:name/keys", d.userKeyAdd)
	e.POST("/users/:name/keys/remove", d.userKeyRemove)
	e.POST("/users/:name/quota", d.userQuota)
}

// usersBody is the Users tab: the filter as given, one page of users, the
// groups to filter by, and the link to the next page.
type usersBody struct {
	Q, Group, State string
	Groups          []core.Group
	Users           []core.User
	Rows            template.HTML // the table's rows, see userRows
	Next            string
	First           bool
}

// userRows writes the Users table's rows by hand, every value escaped:
// the tab's hot path, where html/template's reflective calls for each
// cell of 50 rows cost more than the state read itself.
func userRows(users []core.User) template.HTML {
	var b strings.Builder
	b.Grow(len(users) * 300)
	esc := html.EscapeString
	for _, u := range users {
		quota := "none"
		if u.QuotaBytes > 0 {
			quota = humanBytes(u.QuotaBytes)
		}
		name := esc(u.Name)
		b.WriteString(`<tr><td><a href="/users/` + url.PathEscape(u.Name) + `">` + name + `</a></td><td>` + strconv.Itoa(u.UID) +
			`</td><td><span class="badge ` + esc(string(u.State)) + `">` + esc(string(u.State)) + `</span></td><td>` +
			esc(strings.Join(u.Groups, ", ")) + `</td><td>` + quota + `</td><td>` + limitsText(u.Limits) + `</td><td>` + strconv.Itoa(len(u.SSHKeys)) +
			`</td><td>` + u.Created.UTC().Format("2006-01-02 15:04:05Z") + "</td></tr>\n")
	}
	return template.HTML(b.String()) // every value above is escaped
}

// users lists managed users by name prefix, group and state, paged on the
// server by the name cursor user.list uses.
func (d *Dashboard) users(c *gin.Context) {
	if !d.allowed(c, api.MUserList) {
		return
	}
	f := core.UserFilter{
		Prefix: strings.TrimSpace(c.Query("q")), Group: c.Query("group"), State: core.UserState(c.Query("state")),
		After: c.Query("after"), Limit: userPage,
	}
	if f.Prefix != "" {
		if err := core.ValidateUsername("q", f.Prefix); err != nil {
			d.failErr(c, core.InvalidField("q", "search by the start of a user name: letters, digits, _ and -"))
			return
		}
	}
	users, next, err := d.svc.UserList(c.Request.Context(), f)
	if err != nil {
		d.failErr(c, err)
		return
	}
	groups, err := d.svc.GroupList(c.Request.Context())
	if err != nil {
		d.failErr(c, err)
		return
	}
	body := usersBody{Q: f.Prefix, Group: f.Group, State: string(f.State), Groups: groups, Users: users, Rows: userRows(users), First: f.After == ""}
	if next != "" {
		q := url.Values{"after": {next}}
		for k, v := range map[string]string{"q": f.Prefix, "group": f.Group, "state": string(f.State)} {
			if v != "" {
				q.Set(k, v)
			}
		}
		body.Next = "/users?" + q.Encode()
	}
	d.html(c, http.StatusOK, "users", page{Title: "Users", Tab: "users", Body: body})
}

// userForm is the create form, kept to re-show after an error. The token
// is never sent back.
type userForm struct {
	Name, Keys, Quota, Groups, Shell string
	Error                            string
}

func (d *Dashboard) userNew(c *gin.Context) {
	if !d.allowed(c, api.MUserList) {
		return
	}
	d.html(c, http.StatusOK, "usernew", page{Title: "New user", Tab: "users", Body: userForm{}})
}

// userCreate creates a user from the form: keys pasted (one per line)
// and/or uploaded as a file, an optional forge token, quota and groups.
func (d *Dashboard) userCreate(c *gin.Context) {
	form := userForm{
		Name: strings.TrimSpace(c.PostForm("name")), Keys: c.PostForm("keys"), Quota: strings.TrimSpace(c.PostForm("quota")),
		Groups: c.PostForm("groups"), Shell: c.PostForm("shell"),
	}
	keys, err := formKeys(c, form.Keys, "keyfile")
	var u core.User
	if err == nil {
		sp := core.CreateSpec{Name: form.Name, SSHKeys: keys, ForgeToken: strings.TrimSpace(c.PostForm("token")),
			Groups: splitList(form.Groups), Shell: form.Shell}
		if form.Quota != "" {
			sp.QuotaBytes, err = core.ParseQuota("quota", form.Quota)
		}
		if err == nil {
			err = d.change(c, api.MUserCreate, form.Name, func(ctx ctxT) error {
				u, err = d.svc.UserCreate(ctx, sp)
				return err
			})
		}
	}
	if err != nil {
		form.Error = api.FromError(err).Message
		d.html(c, statusOf(err), "usernew", page{Title: "New user", Tab: "users", Body: form})
		return
	}
	d.done(c, "/users/"+u.Name, "Created user "+u.Name+" (uid "+strconv.Itoa(u.UID)+").",
		"Her public key, to register on the forge: "+u.PublicKey)
}

// formKeys gathers public keys from a textarea (one per line) and an
// uploaded file (an authorized_keys or .pub file); blank lines and #
// comments are skipped. The core validates each key.
func formKeys(c *gin.Context, pasted, fileField string) ([]string, error) {
	text := pasted
	if fh, err := c.FormFile(fileField); err == nil {
		b, err := readUpload(fh)
		if err != nil {
			return nil, err
		}
		text += "\n" + string(b)
	}
	var keys []string
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			keys = append(keys, l)
		}
	}
	return keys, nil
}

func readUpload(fh *multipart.FileHeader) ([]byte, error) {
	if fh.Size > 64<<10 {
		return nil, core.InvalidField("keyfile", "a key file is at most 64 KiB")
	}
	f, err := fh.Open()
	if err != nil {
		return nil, core.InvalidField("keyfile", "cannot read the uploaded file")
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 64<<10))
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		out = append(out, f)
	}
	return out
}
