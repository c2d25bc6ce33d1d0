// Package mycelium finds the node's address on the mycelium IPv6 overlay
// (400::/7), where the dashboard listens and the fleet's nodes reach each
// other. It asks the local mycelium daemon's API first (GET /api/v1/admin
// on 127.0.0.1:8989 by default) and, when no daemon answers, scans the
// interfaces — mycelium carries its address on a TUN device — for one in
// 400::/7. An address is only ever taken when it is on a local interface,
// since a listener can bind nothing else. One package, shared by the
// dashboard and the fleet, so both agree on the node's address.
package mycelium

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"time"
)

// DefaultAPI is the mycelium daemon's local API.
const DefaultAPI = "http://127.0.0.1:8989"

// Overlay is mycelium's address range.
var Overlay = netip.MustParsePrefix("400::/7")

// How an address was found.
const (
	SourceAPI       = "mycelium API"
	SourceInterface = "interface scan"
	SourceFlag      = "--address"
)

// Found is the outcome of Detect.
type Found struct {
	Addr      netip.Addr
	Source    string // SourceAPI or SourceInterface
	Interface string // the interface carrying Addr
}

// ErrNotFound says no overlay address is on this node.
var ErrNotFound = errors.New("no mycelium address: no daemon answered and no interface has an address in 400::/7")

// Options are Detect's seams; the zero value asks the real API and scans
// the real interfaces.
type Options struct {
	// API is the daemon's base URL; DefaultAPI when empty, "-" to skip.
	API string
	// Timeout bounds the API call; 500ms when zero.
	Timeout time.Duration
	// Addrs lists the local addresses by interface; net.Interfaces when nil.
	Addrs func() (map[string][]netip.Addr, error)
}

// Detect returns the node's mycelium address.
func Detect(ctx context.Context, opts Options) (Found, error) {
	local, err := localAddrs(opts)
	if err != nil {
		return Found{}, fmt.Errorf("list interfaces: %w", err)
	}
	if opts.API != "-" {
		if a, err := askAPI(ctx, opts); err == nil {
			if ifc, ok := carrier(local, a); ok {
				return Found{Addr: a, Source: SourceAPI, Interface: ifc}, nil
			}
		}
	}
	names := make([]string, 0, len(local))
	for n := range local {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		for _, a := range local[n] {
			if InOverlay(a) {
				return Found{Addr: a, Source: SourceInterface, Interface: n}, nil
			}
		}
	}
	return Found{}, ErrNotFound
}

// InOverlay reports whether a is a mycelium address.
func InOverlay(a netip.Addr) bool { return a.Is6() && !a.Is4In6() && Overlay.Contains(a.WithZone("")) }

// PlainHTTPOK reports whether plain HTTP may be served on a: the overlay
// encrypts between nodes, and loopback never leaves the machine. Any other
// address needs TLS.
func PlainHTTPOK(a netip.Addr) bool { return InOverlay(a) || a.Unmap().IsLoopback() }

// ParseAddress checks an explicit --address: an IPv4 or IPv6 literal (a
// zone only on a link-local address), brackets allowed.
func ParseAddress(s string) (netip.Addr, error) {
	t := s
	if len(t) > 1 && t[0] == '[' && t[len(t)-1] == ']' {
		t = t[1 : len(t)-1]
	}
	a, err := netip.ParseAddr(t)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("address %q is not an IPv4 or IPv6 address", s)
	}
	if a.Zone() != "" && !a.IsLinkLocalUnicast() {
		return netip.Addr{}, fmt.Errorf("address %q: a zone is only meaningful on a link-local address", s)
	}
	if a.IsUnspecified() || a.IsMulticast() {
		return netip.Addr{}, fmt.Errorf("address %q: give the one address to listen on, not %s", s, map[bool]string{true: "a wildcard", false: "a multicast address"}[a.IsUnspecified()])
	}
	return a.Unmap(), nil
}

// info is the part of the daemon's GET /api/v1/admin answer we read.
type info struct {
	NodeIP     string `json:"nodeIp"`
	NodeSubnet string `json:"nodeSubnet"`
}

// askAPI returns the address the daemon reports: nodeIp where it gives
// one, else the first local address in its nodeSubnet.
func askAPI(ctx context.Context, opts Options) (netip.Addr, error) {
	base := opts.API
	if base == "" {
		base = DefaultAPI
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 500 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/admin", nil)
	if err != nil {
		return netip.Addr{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return netip.Addr{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return netip.Addr{}, fmt.Errorf("mycelium API: %s", resp.Status)
	}
	var in info
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&in); err != nil {
		return netip.Addr{}, fmt.Errorf("mycelium API: %w", err)
	}
	if a, err := netip.ParseAddr(in.NodeIP); err == nil && InOverlay(a) {
		return a, nil
	}
	p, err := netip.ParsePrefix(in.NodeSubnet)
	if err != nil || !InOverlay(p.Addr()) {
		return netip.Addr{}, fmt.Errorf("mycelium API: no overlay address in %+v", in)
	}
	local, err := localAddrs(opts)
	if err != nil {
		return netip.Addr{}, err
	}
	for _, addrs := range local {
		for _, a := range addrs {
			if p.Contains(a.WithZone("")) {
				return a, nil
			}
		}
	}
	return netip.Addr{}, fmt.Errorf("mycelium API: no local address in %s", p)
}

// carrier returns the interface that has a.
func carrier(local map[string][]netip.Addr, a netip.Addr) (string, bool) {
	for n, addrs := range local {
		if slices.Contains(addrs, a) {
			return n, true
		}
	}
	return "", false
}

func localAddrs(opts Options) (map[string][]netip.Addr, error) {
	if opts.Addrs != nil {
		return opts.Addrs()
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := map[string][]netip.Addr{}
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(ipn.IP); ok {
					out[ifc.Name] = append(out[ifc.Name], ip.Unmap())
				}
			}
		}
	}
	return out, nil
}
