// Package proctest builds fake /proc trees for the sessions plugin's unit
// tests: enough of stat, status, loginuid, sessionid, cmdline, exe, fd and
// net/tcp for the code under test to read, without root and without
// touching a real process. Never hand a fake tree to code that sends
// signals: its pids are real pids on the machine.
package proctest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Boot is the btime of every fake tree.
const Boot = 1_700_000_000

// Unset is (uint32)-1, as the kernel shows an unset loginuid or sessionid.
const Unset = ^uint32(0)

// Proc is one fake process. Audit 0 means no audit session (the kernel
// counts them from 1); LoginUID is written only with one.
type Proc struct {
	PID, PPID, SID, UID int
	Comm                string // default "sh"
	State               byte   // default 'S'
	Start               uint64 // ticks since boot
	TTY                 uint64 // tty_nr
	Threads             int    // default 1
	Audit               uint32
	LoginUID            int
	Title               string // cmdline; default Comm
	Exe                 string // exe link target; default /usr/bin/<Comm>
	Sockets             []int  // socket inodes held open
	Kernel              bool
}

// Tree is a fake /proc rooted in a temporary directory.
type Tree struct {
	Root string
	t    testing.TB
}

// New makes an empty tree with a /proc/stat.
func New(t testing.TB) *Tree {
	root := t.TempDir()
	tr := &Tree{Root: root, t: t}
	tr.write("stat", fmt.Sprintf("cpu  1 2 3 4\nbtime %d\nprocesses 9\n", Boot))
	return tr
}

func (tr *Tree) write(rel, content string) {
	p := filepath.Join(tr.Root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr *Tree) link(rel, target string) {
	p := filepath.Join(tr.Root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		tr.t.Fatal(err)
	}
}

// Add writes processes into the tree.
func (tr *Tree) Add(ps ...Proc) {
	for _, p := range ps {
		tr.add(p)
	}
}

func (tr *Tree) add(p Proc) {
	if p.Comm == "" {
		p.Comm = "sh"
	}
	if p.State == 0 {
		p.State = 'S'
	}
	if p.Threads == 0 {
		p.Threads = 1
	}
	audit, loginuid := uint64(Unset), uint64(Unset)
	if p.Audit != 0 {
		audit, loginuid = uint64(p.Audit), uint64(p.LoginUID)
	}
	flags := 0
	if p.Kernel {
		flags = 0x00200000
	}
	dir := strconv.Itoa(p.PID) + "/"
	tr.write(dir+"stat", fmt.Sprintf("%d (%s) %c %d %d %d %d -1 %d 0 0 0 0 0 0 0 0 20 0 %d 0 %d 1000 10\n",
		p.PID, p.Comm, p.State, p.PPID, p.PID, p.SID, p.TTY, flags, p.Threads, p.Start))
	tr.write(dir+"status", fmt.Sprintf("Name:\t%s\nUmask:\t0022\nUid:\t%d\t%d\t%d\t%d\nGid:\t0\t0\t0\t0\n", p.Comm, p.UID, p.UID, p.UID, p.UID))
	tr.write(dir+"sessionid", strconv.FormatUint(audit, 10))
	tr.write(dir+"loginuid", strconv.FormatUint(loginuid, 10))
	title := p.Title
	if title == "" {
		title = p.Comm
	}
	// as setproctitle leaves it: one string padded with spaces and NULs
	tr.write(dir+"cmdline", title+strings.Repeat(" ", 20)+"\x00\x00")
	exe := p.Exe
	if exe == "" {
		exe = "/usr/bin/" + p.Comm
	}
	tr.link(dir+"exe", exe)
	for i, ino := range p.Sockets {
		tr.link(fmt.Sprintf("%sfd/%d", dir, i+3), fmt.Sprintf("socket:[%d]", ino))
	}
}

// TCP writes the net/tcp table of pid; rows are "rem_address inode" pairs
// of established connections, e.g. "0100000A:D431", 777.
func (tr *Tree) TCP(pid int, rows map[string]int) {
	var b strings.Builder
	b.WriteString("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
	i := 0
	for rem, ino := range rows {
		fmt.Fprintf(&b, "   %d: 0100007F:0016 %s 01 00000000:00000000 00:00000000 00000000     0        0 %d 1 0000000000000000 20 4 30 10 -1\n", i, rem, ino)
		i++
	}
	tr.write(strconv.Itoa(pid)+"/net/tcp", b.String())
}
