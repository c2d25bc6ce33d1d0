package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
)

// TestEveryTabRenders: each tab is its own URL, answers 200 to root on
// admin.sock, and links every other tab from its navigation.
func TestEveryTabRenders(t *testing.T) {
	fx := newFixture(t)
	for _, tb := range tabs {
		body := fx.get(tb.Path)
		for _, other := range tabs {
			wantIn(t, body, `href="`+other.Path+`"`)
		}
		wantIn(t, body, `aria-current="page">`+tb.Label+`<`)
	}
}

func TestOverview(t *testing.T) {
	fx := newFixture(t)
	body := fx.get("/")
	wantIn(t, body, "degraded", "shadow", "procfs", "[400::1]:5000", "/run/x/admin.sock")
	if strings.Contains(body, "banner yellow") {
		t.Error("yellow banner without a setup problem")
	}
	fx.setup = SetupStatus{Problems: []string{"The driver's sudoers file /etc/sudoers.d/hero_codescalers is missing"}, Fix: "hero_codescalers setup driver"}
	wantIn(t, fx.get("/"), "banner yellow", "sudoers file /etc/sudoers.d/hero_codescalers is missing", "<code>hero_codescalers setup driver</code>")
}

// TestUserLifecycle drives every user form over admin.sock and checks the
// state (through the fakes) and the audit log, with its source.
func TestUserLifecycle(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	page := fx.post("/users", url.Values{"name": {"alice"}, "keys": {testKey + "\n\n# comment\n"}, "token": {"s3cret-token"}, "quota": {"1G"}})
	wantIn(t, page, "Created user alice", "User alice", "SHA256:", "ssh-ed25519")
	if strings.Contains(page, "s3cret-token") {
		t.Fatal("the forge token is on the page")
	}
	u, err := fx.svc.UserGet(ctx, "alice")
	if err != nil || u.QuotaBytes != 1<<30 || len(u.SSHKeys) != 1 {
		t.Fatalf("alice: %+v %v", u, err)
	}
	wantIn(t, fx.get("/users"), `href="/users/alice"`)
	wantIn(t, fx.get("/users?q=al&state=active"), `href="/users/alice"`)
	if b := fx.get("/users?q=bo"); strings.Contains(b, `href="/users/alice"`) {
		t.Error("prefix filter bo lists alice")
	}

	wantIn(t, fx.get("/users/alice"), "<dt>Limits</dt><dd>none</dd>")
	if _, err := fx.svc.UserLimitsSet(ctx, "alice", core.Limits{MilliCPU: 1500, MemoryBytes: 64 << 20}); err != nil {
		t.Fatal(err)
	}
	wantIn(t, fx.get("/users/alice"), "<dt>Limits</dt><dd>CPU 1.5 cores, memory 64")
	wantIn(t, fx.get("/users?q=alice"), "<td>CPU 1.5 cores, memory 64.0 MiB</td>")

	fx.post("/users/alice/quota", url.Values{"quota": {"2G"}})
	if u, _ = fx.svc.UserGet(ctx, "alice"); u.QuotaBytes != 2<<30 {
		t.Errorf("quota %d", u.QuotaBytes)
	}
	key2 := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvBHo1DH4fCbNwDNx1V2o3Mkv4vrjMYzUcL9zG3n8gy bob@desk"
	fx.post("/users/alice/keys", url.Values{"keys": {key2}})
	if u, _ = fx.svc.UserGet(ctx, "alice"); len(u.SSHKeys) != 2 {
		t.Fatalf("keys %v", u.SSHKeys)
	}
	fp := core.DescribeKey(key2).Fingerprint
	fx.post("/users/alice/keys/remove", url.Values{"key": {fp}})
	if u, _ = fx.svc.UserGet(ctx, "alice"); len(u.SSHKeys) != 1 {
		t.Fatalf("keys after remove %v", u.SSHKeys)
	}
	wantIn(t, fx.post("/users/alice/lock", url.Values{}), "Locked alice", "Unlock")
	if u, _ = fx.svc.UserGet(ctx, "alice"); u.State != core.UserLocked {
		t.Fatalf("state %s", u.State)
	}
	fx.post("/users/alice/unlock", url.Values{})
	wantIn(t, fx.post("/users/alice/reset", url.Values{}), "Reset alice")

	// a delete without the name typed is refused and deletes nothing
	if w := fx.do(req{path: "/users/alice/delete", form: url.Values{"confirm": {"alic"}}}); w.Code != http.StatusBadRequest {
		t.Fatalf("unconfirmed delete: %d", w.Code)
	}
	if _, err := fx.svc.UserGet(ctx, "alice"); err != nil {
		t.Fatal("unconfirmed delete removed alice")
	}
	wantIn(t, fx.post("/users/alice/delete", url.Values{"confirm": {"alice"}, "keep_home": {"1"}}), "Deleted user alice", "read-only snapshot")
	if _, err := fx.svc.UserGet(ctx, "alice"); !core.IsCode(err, core.NotFound) {
		t.Fatalf("alice after delete: %v", err)
	}
	var methods []string
	for _, e := range fx.audit() {
		if e.Source != "admin.sock" || e.ActorUID != 0 {
			t.Errorf("audit %+v: want source admin.sock, uid 0", e)
		}
		methods = append(methods, e.Method)
	}
	want := "user.delete user.reset user.unlock user.lock user.key.remove user.key.add user.quota.set user.create"
	if got := strings.Join(methods, " "); got != want {
		t.Errorf("audit methods %q, want %q (the unconfirmed delete never reached the use case)", got, want)
	}
}

// TestCreateFormErrors: a bad form re-shows itself with the message, the
// values kept and the token dropped; nothing is created.
func TestCreateFormErrors(t *testing.T) {
	fx := newFixture(t)
	w := fx.do(req{path: "/users", form: url.Values{"name": {"Bad Name"}, "token": {"tok-abc"}, "quota": {"5G"}}})
	if w.Code != http.StatusBadRequest {
		t.Fatalf("status %d", w.Code)
	}
	wantIn(t, w.Body.String(), "name:", `value="Bad Name"`, `value="5G"`)
	if strings.Contains(w.Body.String(), "tok-abc") {
		t.Error("the token came back in the form")
	}
	w = fx.do(req{path: "/users", form: url.Values{"name": {"bob"}, "keys": {"ssh-rsa nonsense"}}})
	if w.Code != http.StatusBadRequest {
		t.Fatalf("bad key: %d %s", w.Code, w.Body)
	}
	if _, err := fx.svc.UserGet(context.Background(), "bob"); err == nil {
		t.Error("bob created with a bad key")
	}
	if w := fx.do(req{path: "/users/zed"}); w.Code != http.StatusNotFound {
		t.Errorf("unknown user: %d", w.Code)
	}
}

func TestSessionsTab(t *testing.T) {
	fx := newFixture(t)
	if _, err := fx.svc.UserCreate(context.Background(), core.CreateSpec{Name: "carol"}); err != nil {
		t.Fatal(err)
	}
	fx.f.ss.Add(sessions.Session{ID: "s1", User: "carol", TTY: "pts/3", RemoteHost: "10.1.2.3", Started: time.Now(), PIDs: []int{42}})
	fx.f.ss.Add(sessions.Session{ID: "s2", User: "carol", Started: time.Now(), PIDs: []int{43}})
	wantIn(t, fx.get("/sessions"), "carol", "pts/3", "10.1.2.3", "s1", "s2")
	wantIn(t, fx.get("/users/carol"), "pts/3", "End all her sessions")
	wantIn(t, fx.post("/sessions/kill", url.Values{"user": {"carol"}, "session": {"s1"}}), "Ended 1 session(s) of carol")
	if k := fx.f.ss.Killed(); len(k) != 1 || k[0] != "s1" {
		t.Fatalf("killed %v", k)
	}
	page := fx.post("/sessions/kill", url.Values{"user": {"carol"}, "from": {"user"}})
	wantIn(t, page, "Ended 1 session(s) of carol", "User carol")
	if w := fx.do(req{path: "/sessions/kill", form: url.Values{"user": {"carol"}, "session": {"nope"}}}); w.Code != http.StatusNotFound {
		t.Errorf("unknown session: %d", w.Code)
	}
}

func TestGroupsTab(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	for _, n := range []string{"ann", "ben"} {
		if _, err := fx.svc.UserCreate(ctx, core.CreateSpec{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	page := fx.post("/groups", url.Values{"name": {"devs"}, "description": {"the devs"}, "members": {"ann"}, "shared": {"1"}, "quota": {"3G"}})
	wantIn(t, page, "Created group devs", "/home/groups/devs", "ann", "Used")
	fx.post("/groups/devs/members", url.Values{"user": {"ben"}})
	wantIn(t, fx.get("/users/ben"), `<a href="/groups/devs">devs</a>`)
	if g, _ := fx.svc.GroupGet(ctx, "devs"); strings.Join(g.Members, ",") != "ann,ben" {
		t.Fatalf("members %v", g.Members)
	}
	fx.post("/groups/devs/members/remove", url.Values{"user": {"ann"}})
	if g, _ := fx.svc.GroupGet(ctx, "devs"); strings.Join(g.Members, ",") != "ben" {
		t.Fatalf("members %v", g.Members)
	}
	wantIn(t, fx.get("/groups"), `href="/groups/devs"`, "3.0 GiB")
	// The Users tab filters by the groups a user record holds (user.list's
	// rule): those given at create.
	if _, err := fx.svc.UserCreate(ctx, core.CreateSpec{Name: "cid", Groups: []string{"devs"}}); err != nil {
		t.Fatal(err)
	}
	if b := fx.get("/users?group=devs"); !strings.Contains(b, `href="/users/cid"`) || strings.Contains(b, `href="/users/ann"`) {
		t.Errorf("group filter:\n%s", b)
	}
	if w := fx.do(req{path: "/groups", form: url.Values{"name": {"x"}, "quota": {"1G"}}}); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "quota:") {
		t.Errorf("quota without shared: %d", w.Code)
	}
	if w := fx.do(req{path: "/groups/devs/delete", form: url.Values{"confirm": {"dev"}}}); w.Code != http.StatusBadRequest {
		t.Errorf("unconfirmed group delete: %d", w.Code)
	}
	wantIn(t, fx.post("/groups/devs/delete", url.Values{"confirm": {"devs"}}), "Deleted group devs")
	if _, err := fx.svc.GroupGet(ctx, "devs"); !core.IsCode(err, core.NotFound) {
		t.Fatal(err)
	}
}

func TestPluginsTab(t *testing.T) {
	fx := newFixture(t)
	wantIn(t, fx.get("/plugins"), strings.Repeat("ab", 32), "digest changed", "refused", `action="/plugins/sessions/approve"`)
	wantIn(t, fx.post("/plugins/sessions/approve", url.Values{}), "Approved the sessions plugin")
	if len(fx.approve) != 1 || fx.approve[0] != "sessions" {
		t.Fatalf("approved %v", fx.approve)
	}
	if ev := fx.audit(); len(ev) != 1 || ev[0].Method != "plugin.approve" || ev[0].Target != "sessions" {
		t.Fatalf("audit %+v", ev)
	}
}

func TestAdminTab(t *testing.T) {
	fx := newFixture(t)
	wantIn(t, fx.get("/admin"), "The whitelist is empty")
	wantIn(t, fx.post("/admin/whitelist/add", url.Values{"address": {"400::2"}}), "now has 1 entry", "<code>400::2</code>")
	wantIn(t, fx.post("/admin/whitelist/add", url.Values{"address": {"127.0.0.1"}}), "loopback entry")
	wantIn(t, fx.post("/admin/whitelist/add", url.Values{"address": {"400::/64"}}), "this node&#39;s own address")
	if w := fx.do(req{path: "/admin/whitelist/add", form: url.Values{"address": {"nope"}}}); w.Code != http.StatusBadRequest {
		t.Errorf("bad address: %d", w.Code)
	}
	fx.post("/admin/whitelist/remove", url.Values{"address": {"127.0.0.1"}})
	if l, _ := fx.svc.WhitelistGet(context.Background()); strings.Join(l, " ") != "400::2 400::/64" {
		t.Fatalf("list %v", l)
	}
	if w := fx.do(req{path: "/admin/whitelist/clear", form: url.Values{}}); w.Code != http.StatusBadRequest {
		t.Errorf("unconfirmed clear: %d", w.Code)
	}
	wantIn(t, fx.post("/admin/whitelist/clear", url.Values{"confirm": {"clear"}}), "serves no data over TCP")
	if l, _ := fx.svc.WhitelistGet(context.Background()); len(l) != 0 {
		t.Fatalf("list after clear %v", l)
	}
}

func TestAuditTab(t *testing.T) {
	fx := newFixture(t)
	fx.post("/admin/whitelist/add", url.Values{"address": {"400::2"}})
	fx.do(req{peer: "[400::9]:4000", path: "/"}) // refused: a dashboard.refused record
	body := fx.get("/audit")
	wantIn(t, body, "admin.whitelist.set", "admin.sock", MRefused, "400::9", "not in the whitelist")
	if b := fx.get("/audit?method=" + MRefused); strings.Contains(b, "<td>admin.whitelist.set</td>") {
		t.Error("method filter kept another method")
	}
	if b := fx.get("/audit?actor=400::9"); strings.Contains(b, "<td>admin.whitelist.set</td>") || !strings.Contains(b, "400::9") {
		t.Error("actor filter by address failed")
	}
	if b := fx.get("/audit?actor=0"); !strings.Contains(b, "<td>admin.whitelist.set</td>") || strings.Contains(b, "<td>"+MRefused+"</td>") {
		t.Error("actor filter by uid failed")
	}
}

// TestFormLimit: a form past maxForm is refused before anything runs.
func TestFormLimit(t *testing.T) {
	fx := newFixture(t)
	w := fx.do(req{path: "/users", form: url.Values{"name": {"alice"}, "keys": {strings.Repeat("x", maxForm+10)}}})
	if w.Code == http.StatusSeeOther {
		t.Fatal("an oversized form was accepted")
	}
	if _, err := fx.svc.UserGet(context.Background(), "alice"); err == nil {
		t.Fatal("alice created from an oversized form")
	}
}

// TestSessionsTabManagedOnly: sessions of accounts hero_codescalers does
// not manage are not listed (they cannot be ended from here).
func TestSessionsTabManagedOnly(t *testing.T) {
	fx := newFixture(t)
	fx.f.ss.Add(sessions.Session{ID: "r1", User: "root", TTY: "pts/9", Started: time.Now()})
	if b := fx.get("/sessions"); strings.Contains(b, "pts/9") || !strings.Contains(b, "No sessions") {
		t.Errorf("root's session listed:\n%s", b)
	}
}

// TestUserRowsEscape: the hand-written rows of the Users table escape
// what they print (a group name is free text in the state).
func TestUserRowsEscape(t *testing.T) {
	rows := string(userRows([]core.User{{Name: "eve", State: core.UserActive, Groups: []string{`<script>x</script>`}}}))
	if strings.Contains(rows, "<script>") || !strings.Contains(rows, "&lt;script&gt;") || !strings.Contains(rows, `href="/users/eve"`) {
		t.Fatalf("rows: %s", rows)
	}
}
