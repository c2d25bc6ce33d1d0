package dashboard

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// adminBody is the Admin tab: the whitelist (the seed's "UI Access
// Control"), its warnings, and where the dashboard listens.
type adminBody struct {
	List     []string
	Warnings []string
	Info     api.DashboardInfo
	Peer     string // the visitor's own address over TCP
}

func (d *Dashboard) admin(c *gin.Context) {
	if !d.allowed(c, api.MWhitelistGet) {
		return
	}
	list, err := d.svc.WhitelistGet(c.Request.Context())
	if err != nil {
		d.failErr(c, err)
		return
	}
	info := d.cfg.Info()
	b := adminBody{List: list, Warnings: d.whitelistWarnings(list, info), Info: info}
	if w := whoOf(c); w.transport == TCP {
		b.Peer = w.peer.String()
	}
	d.html(c, http.StatusOK, "admin", page{Title: "Admin", Tab: "admin", Body: b})
}

// whitelistWarnings adds to the core's warnings one about an entry that
// covers the address the dashboard listens on: every local account can
// connect from the node's own address.
func (d *Dashboard) whitelistWarnings(list []string, info api.DashboardInfo) []string {
	warns := core.WhitelistWarnings(list)
	for _, l := range info.Listeners {
		ap, err := netip.ParseAddrPort(l.Address)
		if err != nil || ap.Addr().IsLoopback() {
			continue
		}
		if core.WhitelistAllows(list, ap.Addr()) {
			warns = append(warns, "the whitelist admits "+ap.Addr().String()+", this node's own address: every local account on this node can use the dashboard as an admin")
		}
	}
	return warns
}

// editWhitelist reads the list, applies edit, and stores it when it
// changed (a no-op is not audited, as in the CLI).
func (d *Dashboard) editWhitelist(c *gin.Context, what string, edit func([]string) []string) {
	var stored []string
	err := d.change(c, api.MWhitelistSet, what, func(ctx ctxT) error {
		cur, err := d.svc.WhitelistGet(ctx)
		if err != nil {
			return err
		}
		next := edit(slices.Clone(cur))
		if slices.Equal(cur, next) {
			stored = cur
			return nil
		}
		stored, err = d.svc.WhitelistSet(ctx, next)
		return err
	})
	if err != nil {
		d.failErr(c, err)
		return
	}
	msg := "The whitelist now has " + plural(len(stored), "entry", "entries") + "."
	if len(stored) == 0 {
		msg = "The whitelist is empty: the dashboard serves no data over TCP."
	}
	d.done(c, "/admin", msg, d.whitelistWarnings(stored, d.cfg.Info())...)
}

func (d *Dashboard) whitelistAdd(c *gin.Context) {
	addr := strings.TrimSpace(c.PostForm("address"))
	if _, err := core.ParseWhitelist("address", []string{addr}); err != nil {
		d.failErr(c, err)
		return
	}
	d.editWhitelist(c, addr, func(list []string) []string {
		if slices.ContainsFunc(list, func(s string) bool { return sameEntry(s, addr) }) {
			return list
		}
		return append(list, addr)
	})
}

func (d *Dashboard) whitelistRemove(c *gin.Context) {
	addr := strings.TrimSpace(c.PostForm("address"))
	d.editWhitelist(c, addr, func(list []string) []string {
		return slices.DeleteFunc(list, func(s string) bool { return sameEntry(s, addr) })
	})
}

func (d *Dashboard) whitelistClear(c *gin.Context) {
	if c.PostForm("confirm") != "clear" {
		d.failErr(c, core.InvalidField("confirm", "type clear to confirm: an empty whitelist serves no data over TCP"))
		return
	}
	d.editWhitelist(c, "", func([]string) []string { return []string{} })
}

// sameEntry compares entries as the host normalises them.
func sameEntry(a, b string) bool {
	x, err1 := core.ParseWhitelist("a", []string{a})
	y, err2 := core.ParseWhitelist("b", []string{b})
	return err1 == nil && err2 == nil && x[0] == y[0]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}
