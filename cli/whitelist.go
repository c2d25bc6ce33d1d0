package cli

import (
	"fmt"
	"io"
	"net/netip"
	"slices"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// The whitelist commands. The API has only get and set (the list is small
// and replaced whole); add, remove and clear are built on them here. Two
// admins editing at the same instant can lose one edit — acceptable for a
// list changed by hand, and the audit log shows both sets.

// whitelistGetCmd shows the list; an empty list serves no data over TCP,
// which is worth saying in words.
type whitelistGetCmd struct{}

func (whitelistGetCmd) Run(rt *runCtx) error {
	c, err := rt.client()
	if err != nil {
		return err
	}
	wl, err := c.WhitelistGet(rt.ctx)
	if err != nil {
		return err
	}
	return rt.showWhitelist(wl)
}

// showWhitelist prints the list as every whitelist command leaves it, and
// the host's warnings about it (a loopback entry) on stderr.
func (rt *runCtx) showWhitelist(wl api.Whitelist) error {
	if wl.Addresses == nil {
		wl.Addresses = []string{}
	}
	err := rt.emit(wl, func(w io.Writer) {
		if len(wl.Addresses) == 0 {
			fmt.Fprintln(w, "whitelist empty: the dashboard serves no data over TCP (admin.sock always works); add an address with: hero_codescalers whitelist-add ADDR")
			return
		}
		for _, a := range wl.Addresses {
			fmt.Fprintln(w, a)
		}
	})
	if !rt.g.JSON {
		for _, warn := range wl.Warnings {
			if len(wl.Addresses) > 0 {
				fmt.Fprintln(rt.env.Stderr, "warning:", warn)
			}
		}
	}
	return err
}

// whitelistSetCmd replaces the list. At least one address is required so
// that clearing is always the explicit whitelist-clear.
type whitelistSetCmd struct {
	Addresses []string `arg:"" name:"addr" help:"IPv6/IPv4 addresses or CIDR prefixes."`
}

func (s *whitelistSetCmd) Run(rt *runCtx) error { return rt.setWhitelist(s.Addresses) }

// setWhitelist stores addrs and prints what the host kept.
func (rt *runCtx) setWhitelist(addrs []string) error {
	c, err := rt.client()
	if err != nil {
		return err
	}
	stored, err := c.WhitelistSet(rt.ctx, addrs)
	if err != nil {
		return err
	}
	return rt.showWhitelist(stored)
}

// whitelistAddCmd adds one entry; adding one already there changes nothing.
type whitelistAddCmd struct {
	Address string `arg:"" name:"addr" help:"IPv6/IPv4 address or CIDR prefix."`
}

func (a *whitelistAddCmd) Run(rt *runCtx) error {
	return rt.editWhitelist(func(list []string) []string {
		if slices.ContainsFunc(list, func(s string) bool { return sameEntry(s, a.Address) }) {
			return list
		}
		return append(list, a.Address)
	})
}

// whitelistRemoveCmd removes one entry; removing one not there changes
// nothing, so the command can be repeated safely from scripts.
type whitelistRemoveCmd struct {
	Address string `arg:"" name:"addr" help:"The entry to remove, as whitelist-get shows it."`
}

func (r *whitelistRemoveCmd) Run(rt *runCtx) error {
	return rt.editWhitelist(func(list []string) []string {
		return slices.DeleteFunc(list, func(s string) bool { return sameEntry(s, r.Address) })
	})
}

// whitelistClearCmd empties the list.
type whitelistClearCmd struct{}

func (whitelistClearCmd) Run(rt *runCtx) error { return rt.setWhitelist([]string{}) }

// editWhitelist reads the list, applies edit, and stores the result only
// when it changed (no audit entry for a no-op).
func (rt *runCtx) editWhitelist(edit func([]string) []string) error {
	c, err := rt.client()
	if err != nil {
		return err
	}
	cur, err := c.WhitelistGet(rt.ctx)
	if err != nil {
		return err
	}
	next := edit(slices.Clone(cur.Addresses))
	if slices.Equal(cur.Addresses, next) {
		return rt.showWhitelist(cur)
	}
	return rt.setWhitelist(next)
}

// sameEntry compares two entries as addresses when both parse, so
// "4F8::1" finds the "4f8::1" the host stored; "4f8::1" and "4f8::1/128"
// stay different entries, as the host keeps them.
func sameEntry(a, b string) bool {
	if x, err := netip.ParseAddr(a); err == nil {
		y, err := netip.ParseAddr(b)
		return err == nil && x == y
	}
	if x, err := netip.ParsePrefix(a); err == nil {
		y, err := netip.ParsePrefix(b)
		return err == nil && x == y
	}
	return a == b
}
