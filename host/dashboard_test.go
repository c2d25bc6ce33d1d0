//go:build !nodashboard

package host

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/host/netlimit"
	"github.com/threefoldtech/hero_codescalers/host/rpc"
)

func getBody(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestDashboardOnAdminSock: the host serves the dashboard on admin.sock,
// beside rpc.sock and with its mode; health (and so status) says where,
// and that there is no TCP listener without a mycelium address; the
// caller's uid comes through the connection cap's wrapper.
func TestDashboardOnAdminSock(t *testing.T) {
	cfg := testConfig(t, 0)
	start(t, cfg)
	fi, err := os.Lstat(cfg.Paths.AdminSocket)
	if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin.sock: %v %v", fi.Mode(), err)
	}
	code, body := getBody(t, client(cfg.Paths.AdminSocket), "http://localhost/admin")
	if code != 200 || !strings.Contains(body, "uid "+itoa(os.Getuid())+" on admin.sock") {
		t.Fatalf("GET /admin over admin.sock: %d\n%s", code, body)
	}
	code, body = getBody(t, client(cfg.Paths.RPCSocket), "http://localhost/health")
	var h api.HealthResult
	if err := json.Unmarshal([]byte(body), &h); err != nil || code != 200 || h.Dashboard == nil {
		t.Fatalf("health: %d %s %v", code, body, err)
	}
	if len(h.Dashboard.Listeners) != 1 || h.Dashboard.Listeners[0].Address != cfg.Paths.AdminSocket || !strings.Contains(h.Dashboard.Note, "admin.sock only") {
		t.Errorf("health's dashboard: %+v", h.Dashboard)
	}
}

// TestDashboardTCP: with --address on loopback the dashboard serves plain
// HTTP there, and the whitelist is empty, so it serves nothing yet.
func TestDashboardTCP(t *testing.T) {
	cfg := testConfig(t, 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Paths.Address, cfg.Paths.Port = "127.0.0.1", l.Addr().(*net.TCPAddr).Port
	l.Close()
	start(t, cfg)
	url := "http://" + netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(cfg.Paths.Port)).String()
	code, body := getBody(t, &http.Client{Timeout: 5 * time.Second}, url+"/users")
	if code != http.StatusForbidden || !strings.Contains(body, "whitelist is empty") {
		t.Fatalf("GET over TCP with an empty whitelist: %d\n%s", code, body)
	}
}

// TestDashboardBadAddress: an --address that is not an IP stops the host
// before it serves.
func TestDashboardBadAddress(t *testing.T) {
	cfg := testConfig(t, 0)
	cfg.Paths.Address = "not-an-ip"
	err := Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "not an IPv4 or IPv6 address") {
		t.Fatalf("Run with a bad address: %v", err)
	}
	if _, err := os.Lstat(cfg.Paths.AdminSocket); !os.IsNotExist(err) {
		t.Errorf("admin.sock left behind: %v", err)
	}
}

// TestListenUnixIn: the socket gets its mode and group through its
// descriptor, a stale one is replaced, a live one refused, and a socket
// dir that is a link, or writable by others, is refused.
func TestListenUnixIn(t *testing.T) {
	dir, err := os.MkdirTemp("", "hcs")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	s, err := listenUnixIn(dir, "admin.sock", 0o660, "")
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(filepath.Join(dir, "admin.sock")); fi.Mode().Perm() != 0o660 {
		t.Errorf("mode %v, want 0660", fi.Mode().Perm())
	}
	if _, err := listenUnixIn(dir, "admin.sock", 0o600, ""); err == nil || !strings.Contains(err.Error(), "another host") {
		t.Errorf("second listener on a live socket: %v", err)
	}
	// a crashed host's socket: closed without unlinking
	s.UnixListener.Close()
	s2, err := listenUnixIn(dir, "admin.sock", 0o600, "")
	if err != nil {
		t.Fatalf("over a stale socket: %v", err)
	}
	s2.Close()
	if _, err := os.Lstat(filepath.Join(dir, "admin.sock")); !os.IsNotExist(err) {
		t.Errorf("Close left the socket: %v", err)
	}
	link := dir + "-link"
	os.Symlink(dir, link)
	defer os.Remove(link)
	if _, err := listenUnixIn(link, "admin.sock", 0o600, ""); err == nil {
		t.Error("a socket dir that is a symlink was accepted")
	}
	os.Chmod(dir, 0o777)
	if _, err := listenUnixIn(dir, "admin.sock", 0o600, ""); err == nil || !strings.Contains(err.Error(), "writable by nobody else") {
		t.Errorf("a world-writable socket dir: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "x.sock"), nil, 0o600)
	os.Chmod(dir, 0o755)
	if _, err := listenUnixIn(dir, "x.sock", 0o600, ""); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("a file in the socket's place: %v", err)
	}
}

// TestPeerCredThroughLimiter: SO_PEERCRED is read from the Unix
// connection under netlimit's wrapper, as admin.sock serves it.
func TestPeerCredThroughLimiter(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, "s"), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l := netlimit.New(1, netlimit.Options{}).Listener(ln)
	defer l.Close()
	go func() {
		c, err := net.Dial("unix", filepath.Join(dir, "s"))
		if err == nil {
			defer c.Close()
			time.Sleep(time.Second)
		}
	}()
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, bare := c.(*net.UnixConn); bare {
		t.Fatal("the limiter handed out the bare conn: the test proves nothing")
	}
	if got := rpcCaller(rpc.ConnContext(context.Background(), c)); got != os.Getuid() {
		t.Fatalf("caller uid %d, want %d", got, os.Getuid())
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// rpcCaller is the uid ConnContext attached, or -1.
func rpcCaller(ctx context.Context) int {
	if c, ok := core.CallerFrom(ctx); ok {
		return c.UID
	}
	return -1
}
