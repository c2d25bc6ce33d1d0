package dashboard

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// auditPage is how many events a page of the Audit tab shows.
const auditPage = 50

// auditBody is the Audit tab: the filter, one page, the next page's link
// and the methods to filter by.
type auditBody struct {
	Method, Actor string
	Methods       []string
	Events        []core.AuditEvent
	Next          string
}

func (d *Dashboard) audit(c *gin.Context) {
	if !d.allowed(c, api.MAuditList) {
		return
	}
	f := core.AuditFilter{Limit: auditPage, Before: c.Query("before"), Method: c.Query("method"), Actor: strings.TrimSpace(c.Query("actor"))}
	events, next, err := d.svc.AuditList(c.Request.Context(), f)
	if err != nil {
		d.failErr(c, err)
		return
	}
	b := auditBody{Method: f.Method, Actor: f.Actor, Methods: auditMethods(), Events: events}
	if next != "" {
		q := url.Values{"before": {next}}
		if f.Method != "" {
			q.Set("method", f.Method)
		}
		if f.Actor != "" {
			q.Set("actor", f.Actor)
		}
		b.Next = "/audit?" + q.Encode()
	}
	d.html(c, http.StatusOK, "audit", page{Title: "Audit", Tab: "audit", Body: b})
}

// auditMethods are the methods that leave audit records: the mutating
// ones of the table, and the dashboard's refusals.
func auditMethods() []string {
	var out []string
	for _, m := range api.Methods {
		if m.Mutating {
			out = append(out, m.Name)
		}
	}
	return append(out, MRefused)
}

func itoa(n int) string { return strconv.Itoa(n) }
