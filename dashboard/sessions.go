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

// sessions is the Sessions tab: every managed user's login sessions,
// refreshed live while it is open.
func (d *Dashboard) sessions(c *gin.Context) {
	if !d.allowed(c, api.MSessionList) {
		return
	}
	all, err := d.svc.SessionList(c.Request.Context(), "")
	if err != nil {
		d.failErr(c, err)
		return
	}
	// Only managed users' sessions: the others' cannot be ended here
	// (session.kill refuses them), so listing them would only mislead.
	list := make([]core.Session, 0, len(all))
	managed := map[string]bool{}
	for _, s := range all {
		ok, seen := managed[s.User]
		if !seen {
			_, err := d.svc.UserGet(c.Request.Context(), s.User)
			ok = err == nil
			managed[s.User] = ok
		}
		if ok {
			list = append(list, s)
		}
	}
	slices.SortFunc(list, func(a, b core.Session) int {
		return strings.Compare(a.User+"\x00"+a.ID, b.User+"\x00"+b.ID)
	})
	d.html(c, http.StatusOK, "sessions", page{Title: "Sessions", Tab: "sessions", Live: "sessions", Body: list})
}

// sessionKill ends one session (session given) or all of a user's, and
// goes back to where the form was: the Sessions tab or the user's page.
func (d *Dashboard) sessionKill(c *gin.Context) {
	user, id := c.PostForm("user"), c.PostForm("session")
	var n int
	err := d.change(c, api.MSessionKill, user, func(ctx ctxT) (err error) {
		n, err = d.svc.SessionKill(ctx, user, id)
		return err
	})
	if err != nil {
		d.failErr(c, err)
		return
	}
	to := "/sessions"
	if c.PostForm("from") == "user" {
		to = "/users/" + user
	}
	d.done(c, to, "Ended "+strconv.Itoa(n)+" session(s) of "+user+".")
}
