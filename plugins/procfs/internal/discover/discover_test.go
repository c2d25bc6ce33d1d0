package discover_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/discover"
	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/proc"
	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/proctest"
	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/utmp"
)

type users map[string]int

func (u users) UID(name string) (int, bool) { uid, ok := u[name]; return uid, ok }
func (u users) Name(uid int) (string, bool) {
	for n, id := range u {
		if id == uid {
			return n, true
		}
	}
	return "", false
}

var people = users{"root": 0, "alice": 1001, "bob": 1002}

const pts0 = 136 << 8 // tty_nr of /dev/pts/0

type P = proctest.Proc

// sshdUsePAMno is what a stock sshd with UsePAM no leaves, as seen on
// OpenSSH 9.2: a listener, per connection a root monitor "[priv]" and
// the user's half below it; no audit session anywhere.
func sshdUsePAMno() []P {
	return []P{
		{PID: 100, PPID: 1, SID: 100, Comm: "sshd", Title: "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups", Exe: "/usr/sbin/sshd"},
		// a pty session: utmp names the monitor
		{PID: 200, PPID: 100, SID: 200, Comm: "sshd", Start: 1000, Title: "sshd: alice [priv]", Exe: "/usr/sbin/sshd", Sockets: []int{901}},
		{PID: 201, PPID: 200, SID: 200, UID: 1001, Comm: "sshd", Start: 1010, Title: "sshd: alice@pts/0", Exe: "/usr/sbin/sshd", Sockets: []int{901}},
		{PID: 202, PPID: 201, SID: 202, UID: 1001, Comm: "bash", Start: 1011, TTY: pts0},
		{PID: 203, PPID: 202, SID: 202, UID: 1001, Comm: "sleep", Start: 1020, TTY: pts0},
		{PID: 204, PPID: 1, SID: 202, UID: 1001, Comm: "sleep", Start: 1030},          // a background job reparented to init
		{PID: 205, PPID: 202, SID: 202, UID: 0, Comm: "bash", Start: 1040, TTY: pts0}, // sudo -s: another user's
		{PID: 206, PPID: 202, SID: 202, UID: 1001, Comm: "sleep", State: 'Z'},         // a zombie
		// `ssh host cmd`: no terminal, no utmp record
		{PID: 300, PPID: 100, SID: 300, Comm: "sshd", Start: 2000, Title: "sshd: alice [priv]", Exe: "/usr/sbin/sshd", Sockets: []int{902}},
		{PID: 301, PPID: 300, SID: 300, UID: 1001, Comm: "sshd", Start: 2010, Title: "sshd: alice@notty", Exe: "/usr/sbin/sshd"},
		{PID: 302, PPID: 301, SID: 302, UID: 1001, Comm: "sleep", Start: 2011},
		// bob's unrelated process and a fake title of his
		{PID: 400, PPID: 1, SID: 400, UID: 1002, Comm: "sleep"},
		{PID: 401, PPID: 1, SID: 401, UID: 1002, Comm: "sshd", Title: "sshd: alice@notty", Exe: "/usr/sbin/sshd"},
		{PID: 402, PPID: 1, SID: 402, UID: 1002, Comm: "sshd", Title: "sshd: bob@notty", Exe: "/home/bob/sshd-lookalike"},
		{PID: 2, Comm: "kthreadd", Kernel: true},
	}
}

func finder(tr *proctest.Tree, utmpPath string) *discover.Finder {
	return &discover.Finder{Proc: proc.FS{Root: tr.Root}, Utmp: utmpPath, Dev: "/dev", Users: people,
		Now: func() time.Time { return time.Unix(proctest.Boot+3600, 0) }, Self: 999999}
}

func writeUtmp(t *testing.T, recs ...utmp.Record) string {
	t.Helper()
	var b []byte
	for _, r := range recs {
		b = append(b, utmp.Encode(r)...)
	}
	p := filepath.Join(t.TempDir(), "utmp")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func pidsOf(refs []proc.Ref) []int {
	out := []int{}
	for _, r := range refs {
		out = append(out, r.PID)
	}
	return out
}

func TestSSHDWithoutPAM(t *testing.T) {
	if !utmp.Supported() {
		t.Skip(utmp.ErrLayout)
	}
	tr := proctest.New(t)
	tr.Add(sshdUsePAMno()...)
	tr.TCP(300, map[string]int{"0100000A:D431": 902})
	u := writeUtmp(t,
		utmp.Record{Type: utmp.UserProcess, PID: 200, Line: "pts/0", User: "alice", Host: "192.0.2.7",
			Time: time.Unix(proctest.Boot+11, 0)},
		// stale: its pid now belongs to a process that started later
		utmp.Record{Type: utmp.UserProcess, PID: 400, Line: "pts/9", User: "bob", Time: time.Unix(proctest.Boot-50, 0)},
		utmp.Record{Type: utmp.DeadProcess, PID: 302, Line: "pts/4", User: "alice", Time: time.Unix(proctest.Boot, 0)})
	got, _, warn, err := finder(tr, u).Find()
	if err != nil || warn != nil {
		t.Fatal(err, warn)
	}
	if len(got) != 2 {
		t.Fatalf("got %d sessions, want 2: %+v", len(got), got)
	}
	pty, notty := got[0], got[1]
	if pty.ID != "p200-1000" || pty.User != "alice" || pty.TTY != "pts/0" || pty.RemoteHost != "192.0.2.7" ||
		!pty.Started.Equal(time.Unix(proctest.Boot+11, 0)) {
		t.Errorf("pty session %+v", pty)
	}
	if want := []int{201, 202, 203, 204}; !reflect.DeepEqual(pidsOf(pty.Members), want) {
		t.Errorf("pty members %v, want %v (not root's 205, not the zombie 206)", pidsOf(pty.Members), want)
	}
	if notty.ID != "p300-2000" || notty.TTY != "" || notty.RemoteHost != "10.0.0.1" ||
		!notty.Started.Equal(time.Unix(proctest.Boot+20, 0)) {
		t.Errorf("notty session %+v", notty)
	}
	if want := []int{301, 302}; !reflect.DeepEqual(pidsOf(notty.Members), want) {
		t.Errorf("notty members %v, want %v", pidsOf(notty.Members), want)
	}
}

// TestAuditSessions: with pam_loginuid each monitor begins an audit
// session; its id is the session's id, and a daemon that double-forked
// away from the tree is still a member.
func TestAuditSessions(t *testing.T) {
	tr := proctest.New(t)
	ps := sshdUsePAMno()
	for i := range ps {
		switch {
		case ps[i].PID >= 200 && ps[i].PID < 300:
			ps[i].Audit, ps[i].LoginUID = 5, 1001
		case ps[i].PID >= 300 && ps[i].PID < 400:
			ps[i].Audit, ps[i].LoginUID = 6, 1001
		}
	}
	ps = append(ps, P{PID: 500, PPID: 1, SID: 500, UID: 1001, Comm: "daemon", Audit: 5, LoginUID: 1001},
		// a cron job of bob's: an audit session without sshd or utmp
		P{PID: 600, PPID: 1, SID: 600, UID: 0, Comm: "cron", Start: 3000, Audit: 7, LoginUID: 1002},
		P{PID: 601, PPID: 600, SID: 601, UID: 1002, Comm: "sh", Start: 3001, Audit: 7, LoginUID: 1002})
	tr.Add(ps...)
	got, _, _, err := finder(tr, "/nonexistent").Find()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string][]int{}
	for _, s := range got {
		ids[s.ID] = pidsOf(s.Members)
	}
	want := map[string][]int{"5": {201, 202, 203, 204, 500}, "6": {301, 302}, "7": {601}}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("sessions %v, want %v", ids, want)
	}
	if got[0].User != "alice" || got[2].User != "bob" {
		t.Fatalf("users: %+v", got)
	}
}

// TestInheritedAuditSession: an sshd started by hand from root's login
// (audit session 9) hands that session to every connection when UsePAM
// is off. It is not the connections' own: they keep pid ids, and root's
// audit session does not swallow them (nor the root shell inside alice's
// session, 205); it holds root's shell and the listener it started.
func TestInheritedAuditSession(t *testing.T) {
	tr := proctest.New(t)
	ps := []P{{PID: 50, PPID: 1, SID: 50, UID: 0, Comm: "bash", Start: 10, Audit: 9, LoginUID: 0}}
	for _, p := range sshdUsePAMno() {
		if !p.Kernel && p.PID < 400 {
			p.Audit, p.LoginUID = 9, 0
		}
		ps = append(ps, p)
	}
	tr.Add(ps...)
	got, _, _, err := finder(tr, "/nonexistent").Find()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string][]int{}
	for _, s := range got {
		ids[s.ID] = pidsOf(s.Members)
	}
	want := map[string][]int{"p200-1000": {201, 202, 203, 204}, "p300-2000": {301, 302}, "9": {50, 100}}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("sessions %v, want %v", ids, want)
	}
}

// TestConsoleLogin: a utmp record outside any sshd (login on tty1) roots
// a session at its process; idle time comes from the terminal's atime.
func TestConsoleLogin(t *testing.T) {
	if !utmp.Supported() {
		t.Skip(utmp.ErrLayout)
	}
	tr := proctest.New(t)
	tr.Add(P{PID: 700, PPID: 1, SID: 700, UID: 0, Comm: "login", Start: 100, TTY: 1025},
		P{PID: 701, PPID: 700, SID: 701, UID: 1002, Comm: "bash", Start: 110, TTY: 1025})
	u := writeUtmp(t, utmp.Record{Type: utmp.UserProcess, PID: 700, Line: "null", User: "bob",
		Time: time.Unix(proctest.Boot+2, 0)})
	f := finder(tr, u)
	var st unix.Stat_t
	if err := unix.Stat("/dev/null", &st); err != nil {
		t.Skip("no /dev/null:", err)
	}
	f.Now = func() time.Time { return time.Unix(st.Atim.Unix()).Add(90 * time.Second) }
	got, _, _, err := f.Find()
	if err != nil || len(got) != 1 {
		t.Fatalf("%v %+v", err, got)
	}
	s := got[0]
	if s.ID != "p700-100" || s.User != "bob" || s.TTY != "null" || !reflect.DeepEqual(pidsOf(s.Members), []int{701}) {
		t.Fatalf("got %+v", s)
	}
	if s.Idle != 90*time.Second {
		t.Fatalf("idle %v, want 90s after the terminal's atime", s.Idle)
	}
}

// TestDeletedUser: a monitor of a user no longer in passwd is still a
// session, with the uid of its user half.
func TestDeletedUser(t *testing.T) {
	tr := proctest.New(t)
	tr.Add(P{PID: 800, PPID: 1, SID: 800, Comm: "sshd", Title: "sshd: carol [priv]", Exe: "/usr/sbin/sshd"},
		P{PID: 801, PPID: 800, SID: 800, UID: 1005, Comm: "sshd", Title: "sshd: carol@notty", Exe: "/usr/sbin/sshd"},
		P{PID: 802, PPID: 801, SID: 802, UID: 1005, Comm: "sleep"})
	got, _, _, err := finder(tr, "/nonexistent").Find()
	if err != nil || len(got) != 1 || got[0].User != "carol" || got[0].UID != 1005 ||
		!reflect.DeepEqual(pidsOf(got[0].Members), []int{801, 802}) {
		t.Fatalf("%v %+v", err, got)
	}
}

// TestSelfNeverMember: the plugin and its ancestors are never members,
// even inside a session.
func TestSelfNeverMember(t *testing.T) {
	tr := proctest.New(t)
	tr.Add(sshdUsePAMno()...)
	f := finder(tr, "/nonexistent")
	f.Self = 203 // the plugin runs below alice's shell
	got, _, _, err := f.Find()
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{204}; !reflect.DeepEqual(pidsOf(got[0].Members), want) {
		t.Fatalf("members %v, want %v: 203 is the plugin, 202 and 201 its ancestors", pidsOf(got[0].Members), want)
	}
}

// TestMembersFollowOrphans: after the monitor exits, a kill still reaches
// processes seen before, and what they forked since.
func TestMembersFollowOrphans(t *testing.T) {
	tr := proctest.New(t)
	tr.Add(P{PID: 204, PPID: 1, SID: 204, UID: 1001, Comm: "sleep", Start: 1030},
		P{PID: 210, PPID: 204, SID: 204, UID: 1001, Comm: "sleep", Start: 1100},
		P{PID: 211, PPID: 1, SID: 204, UID: 1001, Comm: "sleep", Start: 1200})
	snap, err := finder(tr, "").Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	t0 := discover.Target{Seeds: []proc.Ref{{PID: 200, Start: 1000}, {PID: 204, Start: 1030}}, UID: 1001}
	if got := pidsOf(snap.Members(t0)); !reflect.DeepEqual(got, []int{204, 210, 211}) {
		t.Fatalf("members %v", got)
	}
	t0.Seeds[1].Start = 999 // pid 204 was reused
	if got := pidsOf(snap.Members(t0)); len(got) != 0 {
		t.Fatalf("members of a reused pid %v", got)
	}
}
