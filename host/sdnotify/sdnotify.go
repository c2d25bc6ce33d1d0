// Package sdnotify tells systemd how the host is doing (sd_notify(3)): a
// unit of Type=notify counts the host as started only when it sends
// READY=1, which the host does once its API answers, so `systemctl start`
// returns, and units ordered after it start, when the host can really be
// called. It also says RELOADING=1 and STOPPING=1, and a STATUS= line that
// `systemctl status` shows.
//
// The protocol is one datagram of newline-separated assignments to the
// Unix socket in $NOTIFY_SOCKET (a leading @ is the abstract namespace).
// That is a dozen lines, written here rather than taken from
// coreos/go-systemd: the same protocol, no module to track.
package sdnotify

import (
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Notify sends state (e.g. "READY=1\nSTATUS=serving") to systemd. Without
// $NOTIFY_SOCKET (not run by systemd, or not Type=notify) it does nothing
// and returns false.
func Notify(state string) (bool, error) {
	sock := os.Getenv("NOTIFY_SOCKET")
	if sock == "" {
		return false, nil
	}
	addr := &net.UnixAddr{Name: sock, Net: "unixgram"}
	if strings.HasPrefix(sock, "@") {
		addr.Name = "\x00" + sock[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, addr)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return false, err
	}
	return true, nil
}

// Ready says the host serves.
func Ready(status string) (bool, error) {
	return Notify("READY=1\nSTATUS=" + status)
}

// Reloading says a reload began; Ready ends it. MONOTONIC_USEC lets a
// Type=notify-reload unit (systemd 253+) match the two.
func Reloading() (bool, error) {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	usec := ts.Nano() / int64(time.Microsecond)
	return Notify("RELOADING=1\nMONOTONIC_USEC=" + strconv.FormatInt(usec, 10))
}

// Stopping says the host is shutting down.
func Stopping() (bool, error) {
	return Notify("STOPPING=1")
}
