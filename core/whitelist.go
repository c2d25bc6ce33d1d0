package core

import (
	"context"
	"net/netip"
	"strings"
)

// WhitelistGet returns the dashboard's TCP access list. An empty list
// serves no data over TCP (see WhitelistAllows).
func (s *Service) WhitelistGet(ctx context.Context) ([]string, error) {
	list := []string{}
	err := s.store.View(func(tx Tx) error {
		_, err := getJSON(tx, keyWhitelist, &list)
		return err
	})
	return list, err
}

// WhitelistSet validates, normalises and replaces the access list.
func (s *Service) WhitelistSet(ctx context.Context, entries []string) ([]string, error) {
	list, err := ParseWhitelist("addresses", entries)
	if err != nil {
		return nil, err
	}
	err = s.store.Update(func(tx Tx) error { return putJSON(tx, keyWhitelist, list) })
	return list, err
}

// WhitelistSeed sets the access list to entries only when no list was
// ever stored: the config file's whitelist gives a new host its first
// list, and never overrides what an admin set (or cleared) since. It
// reports whether it stored the seed.
func (s *Service) WhitelistSeed(ctx context.Context, entries []string) (bool, error) {
	list, err := ParseWhitelist("whitelist", entries)
	if err != nil {
		return false, err
	}
	seeded := false
	err = s.store.Update(func(tx Tx) error {
		var old []string
		found, err := getJSON(tx, keyWhitelist, &old)
		if err != nil || found {
			return err
		}
		seeded = true
		return putJSON(tx, keyWhitelist, list)
	})
	return seeded, err
}

// WhitelistWarnings says what an admin should know about a list that is
// valid but wide: a loopback entry lets every local account of the node use
// the dashboard (anyone who can run curl here is then an admin), and an
// empty list serves nothing over TCP. The entries are accepted all the same;
// the CLI, the log and the dashboard show the warnings.
func WhitelistWarnings(list []string) []string {
	var warns []string
	if len(list) == 0 {
		warns = append(warns, "the whitelist is empty: the dashboard serves no data over TCP (admin.sock still works)")
	}
	for _, e := range list {
		if coversLoopback(e) {
			warns = append(warns, e+" is a loopback entry: every local account on this node can use the dashboard as an admin")
		}
	}
	return warns
}

// coversLoopback reports whether the entry admits a loopback address.
func coversLoopback(e string) bool {
	if strings.Contains(e, "/") {
		p, err := netip.ParsePrefix(e)
		return err == nil && (p.Contains(netip.MustParseAddr("127.0.0.1")) || p.Contains(netip.IPv6Loopback()))
	}
	a, err := netip.ParseAddr(e)
	return err == nil && a.Unmap().IsLoopback()
}
