package proc

import (
	"bufio"
	"encoding/hex"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Peers maps the socket inodes of established TCP connections to their
// remote addresses.
type Peers map[string]string

// NetNS names the network namespace of pid ("net:[4026531840]"), so one
// reading of the TCP tables serves every process in it; "" when unknown.
func (f FS) NetNS(pid int) string {
	ns, err := os.Readlink(f.path(pid, "ns/net"))
	if err != nil {
		return ""
	}
	return ns
}

// TCPPeers reads the established connections of pid's network namespace
// from /proc/PID/net/tcp and tcp6. Each read walks the kernel's whole
// connection hash (milliseconds on a large machine), so callers read it
// once per namespace.
func (f FS) TCPPeers(pid int) Peers {
	out := Peers{}
	for _, table := range []string{"tcp", "tcp6"} {
		f.readPeers(pid, table, out)
	}
	return out
}

// tcpEstablished is TCP_ESTABLISHED in the st column.
const tcpEstablished = "01"

func (f FS) readPeers(pid int, table string, out Peers) {
	fh, err := os.Open(f.path(pid, "net/"+table))
	if err != nil {
		return
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Scan() // header
	for sc.Scan() {
		// sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
		fs := strings.Fields(sc.Text())
		if len(fs) < 10 || fs[3] != tcpEstablished || fs[9] == "0" {
			continue
		}
		if a, ok := ParseHexAddr(fs[2]); ok {
			out[fs[9]] = a.String()
		}
	}
}

// PeerAddress returns the remote address of the first established TCP
// connection pid holds open, as sshd's per-connection processes do: the
// client of a session that has no utmp record; "" when there is none.
func (f FS) PeerAddress(pid int, peers Peers) string {
	for _, ino := range f.SocketInodes(pid) {
		if a, ok := peers[ino]; ok {
			return a
		}
	}
	return ""
}

// SocketInodes lists the inodes of the sockets pid holds, in fd order.
func (f FS) SocketInodes(pid int) []string {
	dir := f.path(pid, "fd")
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	fds := make([]int, 0, len(names))
	for _, n := range names {
		if fd, err := strconv.Atoi(n); err == nil {
			fds = append(fds, fd)
		}
	}
	slices.Sort(fds)
	var out []string
	for _, fd := range fds {
		target, err := os.Readlink(dir + "/" + strconv.Itoa(fd))
		if err != nil {
			continue
		}
		if ino, ok := strings.CutPrefix(target, "socket:["); ok {
			out = append(out, strings.TrimSuffix(ino, "]"))
		}
	}
	return out
}

// ParseHexAddr decodes an address of /proc/net/tcp{,6}: "0100007F:D6F4"
// is 127.0.0.1 (each 32-bit word in host order, here little endian). An
// IPv4-mapped IPv6 address is returned as IPv4.
func ParseHexAddr(s string) (netip.Addr, bool) {
	host, port, ok := strings.Cut(s, ":")
	if !ok || (len(host) != 8 && len(host) != 32) {
		return netip.Addr{}, false
	}
	if _, err := strconv.ParseUint(port, 16, 16); err != nil {
		return netip.Addr{}, false
	}
	raw, err := hex.DecodeString(host)
	if err != nil {
		return netip.Addr{}, false
	}
	for w := 0; w+4 <= len(raw); w += 4 { // each word is little endian
		raw[w], raw[w+1], raw[w+2], raw[w+3] = raw[w+3], raw[w+2], raw[w+1], raw[w]
	}
	a, ok := netip.AddrFromSlice(raw)
	return a.Unmap(), ok
}
