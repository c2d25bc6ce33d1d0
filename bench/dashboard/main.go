// Command dashboard measures the dashboard's Users page against the
// JSON-RPC user.list call of the same page, in one run over one Badger
// state holding 10,000 users: the server time of each (handler entry to
// the last byte written, no network), p50 and p95, alternating so both see
// the same machine load (Badger in memory, see run). It also weighs every tab with the assets it
// loads. The users are made through the real use case (user.create_batch)
// over the sdk's in-memory fake plugins: the pages read only the state.
//
//	go run ./bench/dashboard [-users 10000] [-n 400] [-page 50]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/dashboard"
	"github.com/threefoldtech/hero_codescalers/host/rpc"
	"github.com/threefoldtech/hero_codescalers/host/state"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// The goals: the page's p95 within 1.5× of user.list's, and no
// page heavier than 150 KB with its assets.
const (
	goalRatio  = 1.5
	goalWeight = 150 << 10
)

type fakes struct {
	a *accounts.Fake
	v *volumes.Fake
	c *acl.Fake
	k *sshkeys.Fake
	s *sessions.Fake
}

func (f *fakes) Accounts() accounts.Accounts { return f.a }
func (f *fakes) Volumes() volumes.Volumes    { return f.v }
func (f *fakes) ACL() acl.ACL                { return f.c }
func (f *fakes) SSHKeys() sshkeys.SSHKeys    { return f.k }
func (f *fakes) Sessions() sessions.Sessions { return f.s }
func (f *fakes) All() []core.PluginClient {
	return []core.PluginClient{{Name: "accounts", Client: f.a}, {Name: "volumes", Client: f.v},
		{Name: "acl", Client: f.c}, {Name: "sshkeys", Client: f.k}, {Name: "sessions", Client: f.s}}
}

type policy struct{}

func (policy) Privileged(core.Caller) bool { return true }
func (policy) Requirement() string         { return "root" }

func main() {
	users := flag.Int("users", 10000, "users in the state")
	n := flag.Int("n", 400, "requests of each kind")
	pageSize := flag.Int("page", 50, "users per page (the dashboard's page size)")
	flag.Parse()
	if err := run(*users, *n, *pageSize); err != nil {
		fmt.Fprintln(os.Stderr, "bench/dashboard:", err)
		os.Exit(1)
	}
}

func run(users, n, pageSize int) error {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	// Badger in memory: the same reads as on disk once the page cache
	// holds the state, without 10,000 synced commits to make it.
	store, err := state.Open(state.Options{InMemory: true, Logger: quiet})
	if err != nil {
		return err
	}
	defer store.Close()
	f := &fakes{a: accounts.NewFake(), v: volumes.NewFake(), c: acl.NewFake(), k: sshkeys.NewFake(), s: sessions.NewFake()}
	f.v.Elsewhere = f.k.Wrote
	svc := core.NewService(store, core.WithPlugins(f), core.WithLogger(quiet))
	start := time.Now()
	if err := fill(svc, store, users); err != nil {
		return err
	}
	fillTook := time.Since(start)
	dash, rpcH, err := servers(svc, quiet)
	if err != nil {
		return err
	}
	mid := fmt.Sprintf("u%05d", users/2)
	pages := []struct{ name, web, after string }{
		{"first page", "/users", ""},
		{"middle page", "/users?after=" + mid, mid},
	}
	fmt.Printf("Users page vs JSON-RPC user.list of the same page: %d users in a Badger state (made in %s), %d per page,\n", users, fillTook.Round(time.Millisecond), pageSize)
	fmt.Printf("server time per request (handler in, last byte out; no socket), %d requests each, alternating\n\n", n)
	fmt.Printf("%-12s  %9s  %9s  %9s  %9s  %9s\n", "page", "web p50", "web p95", "rpc p50", "rpc p95", "p95 ratio")
	worst := 0.0
	for _, p := range pages {
		web, rpcT := measure(n, func() error { return get(dash, p.web) }, func() error { return callList(rpcH, pageSize, p.after) })
		ratio := float64(web.p95) / float64(rpcT.p95)
		worst = max(worst, ratio)
		fmt.Printf("%-12s  %9s  %9s  %9s  %9s  %8.2f×\n", p.name, web.p50, web.p95, rpcT.p50, rpcT.p95, ratio)
	}
	fmt.Printf("\ngoal: the page's p95 within %.1f× of user.list's: %s (worst %.2f×)\n\n", goalRatio, verdict(worst <= goalRatio), worst)
	return weigh(dash)
}

// fill makes one user through the use case and stores copies of her
// record under users names, 1,000 a transaction: the fake plugins' batch
// path is far too slow at this size (minutes), and the pages read only the
// records. The copy goes under the key the core keeps users at; UserList
// then finding every copy checks that the layout still holds.
func fill(svc *core.Service, store core.Store, users int) error {
	ctx := context.Background()
	u, err := svc.UserCreate(ctx, core.CreateSpec{Name: "u00000", QuotaBytes: 10 << 30,
		SSHKeys: []string{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl dev@laptop"}})
	if err != nil {
		return err
	}
	for base := 1; base < users; base += 1000 {
		err := store.Update(func(tx core.Tx) error {
			for i := base; i < min(base+1000, users); i++ {
				c := u
				c.Name, c.UID, c.GID, c.Home = fmt.Sprintf("u%05d", i), u.UID+i, u.GID+i, fmt.Sprintf("/home/u%05d", i)
				b, err := json.Marshal(c)
				if err != nil {
					return err
				}
				if err := tx.Set("user/"+c.Name, b); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	counts, err := svc.Counts(ctx)
	if err != nil {
		return err
	}
	if last, _, err := svc.UserList(ctx, core.UserFilter{After: fmt.Sprintf("u%05d", users-2), Limit: 5}); err != nil || counts.Users != users || len(last) != 1 {
		return fmt.Errorf("the state holds %d users (want %d), the last page %d: %v", counts.Users, users, len(last), err)
	}
	return nil
}

// servers builds the dashboard's admin.sock handler and the JSON-RPC
// server over the same service, as the host does.
func servers(svc *core.Service, log *slog.Logger) (http.Handler, http.Handler, error) {
	d, err := dashboard.New(dashboard.Config{
		Service: svc, Policy: policy{}, Logger: log, Version: api.Version,
		Info: func() api.DashboardInfo {
			return api.DashboardInfo{Listeners: []api.Listener{{Kind: "unix", Address: "/run/hero_codescalers/admin.sock"}}}
		},
	})
	if err != nil {
		return nil, nil, err
	}
	reg, err := rpc.Handlers(svc, rpc.Info{Version: api.Version, Started: time.Now()})
	if err != nil {
		return nil, nil, err
	}
	srv, err := rpc.NewServer(rpc.Options{Handlers: reg, Policy: rpc.NewHostPolicy(0, "", log), Logger: log})
	if err != nil {
		return nil, nil, err
	}
	return d.Handler(dashboard.Unix), srv, nil
}

// get asks the dashboard for path as root over admin.sock.
func get(h http.Handler, path string) error {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.Host = "localhost"
	r = r.WithContext(core.WithCaller(r.Context(), core.Caller{UID: 0}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		return fmt.Errorf("GET %s: %d", path, w.Code)
	}
	return nil
}

// callList makes the user.list call of the same page.
func callList(h http.Handler, limit int, after string) error {
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": api.MUserList,
		"params": api.UserListParams{Limit: limit, After: after}})
	r := httptest.NewRequest(http.MethodPost, "/rpc", bytes.NewReader(body))
	r.Host = "localhost"
	r = r.WithContext(core.WithCaller(r.Context(), core.Caller{UID: 0}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"users"`) {
		return fmt.Errorf("user.list: %d %.200s", w.Code, w.Body)
	}
	return nil
}

type percentiles struct{ p50, p95 time.Duration }

// measure times n calls of a and of b after a warm-up, alternating which
// goes first.
func measure(n int, a, b func() error) (percentiles, percentiles) {
	const warm = 20
	times := [2][]time.Duration{}
	fns := [2]func() error{a, b}
	for i := range n + warm {
		for k := range 2 {
			which := (i + k) % 2
			start := time.Now()
			if err := fns[which](); err != nil {
				fmt.Fprintln(os.Stderr, "bench/dashboard:", err)
				os.Exit(1)
			}
			if i >= warm {
				times[which] = append(times[which], time.Since(start))
			}
		}
	}
	return pct(times[0]), pct(times[1])
}

func pct(ds []time.Duration) percentiles {
	slices.Sort(ds)
	at := func(q float64) time.Duration { return ds[int(q*float64(len(ds)-1))].Round(time.Microsecond) }
	return percentiles{at(0.50), at(0.95)}
}

var assetRE = regexp.MustCompile(`(?:href|src)="(/assets/[^"]+)"`)

// weigh prints each tab's weight: the page and every asset it loads.
func weigh(h http.Handler) error {
	fmt.Printf("page weight with its assets (uncompressed), goal <= %d KB\n", goalWeight>>10)
	heaviest := 0
	for _, p := range []string{"/", "/users", "/users/u00001", "/sessions", "/groups", "/plugins", "/admin", "/audit"} {
		body, err := fetch(h, p)
		if err != nil {
			return err
		}
		total, parts := len(body), []string{fmt.Sprintf("page %.1f KB", kb(len(body)))}
		for _, m := range assetRE.FindAllStringSubmatch(string(body), -1) {
			a, err := fetch(h, m[1])
			if err != nil {
				return err
			}
			total += len(a)
			parts = append(parts, fmt.Sprintf("%s %.1f KB", strings.TrimPrefix(m[1], "/assets/"), kb(len(a))))
		}
		heaviest = max(heaviest, total)
		fmt.Printf("  %-14s %6.1f KB  (%s)\n", p, kb(total), strings.Join(parts, ", "))
	}
	fmt.Printf("goal: every page <= %d KB: %s (heaviest %.1f KB)\n", goalWeight>>10, verdict(heaviest <= goalWeight), kb(heaviest))
	return nil
}

func fetch(h http.Handler, path string) ([]byte, error) {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.Host = "localhost"
	r = r.WithContext(core.WithCaller(r.Context(), core.Caller{UID: 0}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK && w.Code != http.StatusServiceUnavailable {
		return nil, fmt.Errorf("GET %s: %d", path, w.Code)
	}
	return w.Body.Bytes(), nil
}

func kb(n int) float64 { return float64(n) / 1024 }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}
