package proc_test

import (
	"os"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/proc"
	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/proctest"
)

func TestParseStat(t *testing.T) {
	// A command name may hold spaces and parentheses.
	b := []byte("4711 (a) (b c) Z 1 4711 4700 34816 4711 4194560 0 0 0 0 0 0 0 0 20 0 3 0 12345 0 0\n")
	p, err := proc.ParseStat(4711, b)
	if err != nil {
		t.Fatal(err)
	}
	if p.Comm != "a) (b c" || p.State != 'Z' || p.PPID != 1 || p.SID != 4700 || p.TTY != 34816 ||
		p.Threads != 3 || p.Start != 12345 || p.Kernel {
		t.Fatalf("got %+v", p)
	}
	if p.Dead() {
		t.Fatal("a zombie leader with live threads is not dead")
	}
	p.Threads = 1
	if !p.Dead() {
		t.Fatal("a zombie is dead")
	}
	for _, bad := range []string{"", "12 no parens", "12 (x) S 1"} {
		if _, err := proc.ParseStat(12, []byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestTTYName(t *testing.T) {
	for dev, want := range map[uint64]string{
		34816:        "pts/0",   // 136:0
		34817:        "pts/1",   // 136:1
		34816 + 256:  "pts/256", // 137:0
		1025:         "tty1",    // 4:1
		1088:         "ttyS0",   // 4:64
		0:            "",
		(5 << 8) | 1: "", // /dev/console
	} {
		if got := proc.TTYName(dev); got != want {
			t.Errorf("TTYName(%d) = %q, want %q", dev, got, want)
		}
	}
}

func TestParseHexAddr(t *testing.T) {
	for in, want := range map[string]string{
		"0100007F:D431":                         "127.0.0.1",
		"0100000A:0016":                         "10.0.0.1",
		"0000000000000000FFFF00000100007F:1F90": "127.0.0.1", // v4-mapped
		"B80D0120000000000000000001000000:0016": "2001:db8::1",
	} {
		a, ok := proc.ParseHexAddr(in)
		if !ok || a.String() != want {
			t.Errorf("ParseHexAddr(%q) = %v %v, want %s", in, a, ok, want)
		}
	}
	for _, bad := range []string{"", "0100007F", "XYZ:0016", "0100007F:ZZZZ"} {
		if _, ok := proc.ParseHexAddr(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestFSOnFixture(t *testing.T) {
	tr := proctest.New(t)
	tr.Add(proctest.Proc{PID: 300, PPID: 100, SID: 300, UID: 0, Comm: "sshd", Start: 500,
		Title: "sshd: alice [priv]", Exe: "/usr/sbin/sshd", Sockets: []int{777, 778}, Audit: 4, LoginUID: 1001},
		proctest.Proc{PID: 2, Comm: "kthreadd", Kernel: true})
	tr.TCP(300, map[string]int{"0100000A:D431": 777})
	fs := proc.FS{Root: tr.Root}
	procs, err := fs.Scan()
	if err != nil || len(procs) != 2 {
		t.Fatalf("scan: %v %v", procs, err)
	}
	p, err := fs.Process(300)
	if err != nil {
		t.Fatal(err)
	}
	if p.UID != 0 || p.AuditSession != 4 || p.LoginUID != 1001 || p.Start != 500 {
		t.Fatalf("got %+v", p)
	}
	if title, _ := fs.Cmdline(300); title != "sshd: alice [priv]" {
		t.Fatalf("title %q", title)
	}
	if exe, _ := fs.ExeBase(300); exe != "sshd" {
		t.Fatalf("exe %q", exe)
	}
	if a := fs.PeerAddress(300, fs.TCPPeers(300)); a != "10.0.0.1" {
		t.Fatalf("peer %q", a)
	}
	boot, err := fs.BootTime()
	if err != nil || !proc.StartTime(boot, 500).Equal(time.Unix(proctest.Boot+5, 0)) {
		t.Fatalf("boot %v %v", boot, err)
	}
	if !fs.Current(proc.Ref{PID: 300, Start: 500}) || fs.Current(proc.Ref{PID: 300, Start: 501}) {
		t.Fatal("Current does not compare start times")
	}
}

// TestScanSelf reads the real /proc: this process is there with its own
// real uid.
func TestScanSelf(t *testing.T) {
	fs := proc.FS{Root: "/proc"}
	p, err := fs.Process(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if p.UID != os.Getuid() || p.PPID != os.Getppid() || p.Kernel || p.Dead() {
		t.Fatalf("got %+v", p)
	}
	if !fs.Current(p.Ref) {
		t.Fatal("this process is not current")
	}
}
