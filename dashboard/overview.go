package dashboard

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// overviewBody is the Overview tab: health, plugins, counts, listeners.
type overviewBody struct {
	Status   string
	Version  string
	Instance int
	Uptime   time.Duration
	Counts   core.Counts
	Plugins  []core.PluginInfo
	Info     api.DashboardInfo
}

func (d *Dashboard) pluginList() []core.PluginInfo {
	if d.cfg.Plugins == nil {
		return []core.PluginInfo{}
	}
	return d.cfg.Plugins()
}

// health is "ok" while every plugin is ready, as the health method says.
func health(plugins []core.PluginInfo) string {
	for _, p := range plugins {
		if p.State != core.PluginReady {
			return "degraded"
		}
	}
	return "ok"
}

func (d *Dashboard) overview(c *gin.Context) {
	if !d.allowed(c, api.MStats) {
		return
	}
	counts, err := d.svc.Counts(c.Request.Context())
	if err != nil {
		d.failErr(c, err)
		return
	}
	plugins := d.pluginList()
	body := overviewBody{
		Status: health(plugins), Version: d.cfg.Version, Instance: d.cfg.Instance,
		Uptime: time.Since(d.cfg.Started).Round(time.Second), Counts: counts, Plugins: plugins, Info: d.cfg.Info(),
	}
	p := page{Title: "Overview", Tab: "overview", Live: "plugins counts", Body: body}
	if d.cfg.Setup != nil {
		if st := d.cfg.Setup(c.Request.Context()); len(st.Problems) > 0 {
			p.Setup = &st
		}
	}
	d.html(c, http.StatusOK, "overview", p)
}

// plugins is the Plugins tab.
func (d *Dashboard) plugins(c *gin.Context) {
	if !d.allowed(c, api.MPluginList) {
		return
	}
	d.html(c, http.StatusOK, "plugins", page{Title: "Plugins", Tab: "plugins", Live: "plugins", Body: d.pluginList()})
}

// pluginApprove approves the binary now chosen for a concern (after an
// upgrade changed its sha256) and starts it.
func (d *Dashboard) pluginApprove(c *gin.Context) {
	concern := c.Param("concern")
	err := d.change(c, api.MPluginApprove, concern, func(ctx ctxT) error {
		if d.cfg.Approve == nil {
			return core.Errorf(core.Unavailable, "this host runs no plugins")
		}
		return d.cfg.Approve(ctx, concern)
	})
	if err != nil {
		d.failErr(c, err)
		return
	}
	d.done(c, "/plugins", "Approved the "+concern+" plugin.")
}
