// Package fakelogind serves a small, map-backed org.freedesktop.login1
// (and systemd's GetUnitProcesses) on a real D-Bus connection, for tests
// of the logind plugin's wire code where no systemd runs. It follows the
// method signatures and error names of systemd's documentation
// (org.freedesktop.login1(5)); the processes are only numbers.
package fakelogind

import (
	"fmt"
	"strings"
	"sync"
	"syscall"

	"github.com/godbus/dbus/v5"
)

// Session is one fake session.
type Session struct {
	ID, User, TTY, RemoteHost, State string
	UID, Leader                      uint32
	Timestamp, IdleSinceHint         uint64 // µs since the epoch
	PIDs                             []uint32
	// Ignore lists signals the session's processes survive.
	Ignore map[syscall.Signal]bool
}

// Scope is the session's scope unit.
func (s *Session) Scope() string { return "session-" + s.ID + ".scope" }

// Call is one recorded kill or terminate.
type Call struct {
	Method, ID, Who string
	Signal          int32
}

// Logind is the fake's state.
type Logind struct {
	mu       sync.Mutex
	sessions map[string]*Session
	byPID    map[uint32]string
	calls    []Call
}

// New returns a fake with the sessions given.
func New(ss ...*Session) *Logind {
	l := &Logind{sessions: map[string]*Session{}, byPID: map[uint32]string{}}
	for _, s := range ss {
		l.sessions[s.ID] = s
	}
	return l
}

// AddPID puts pid in session id, for GetSessionByPID.
func (l *Logind) AddPID(pid uint32, id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byPID[pid] = id
}

// Calls returns the kills and terminates received so far.
func (l *Logind) Calls() []Call {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Call(nil), l.calls...)
}

// Serve claims the logind and systemd names on conn and exports the
// objects.
func Serve(conn *dbus.Conn, l *Logind) error {
	m := &manager{l}
	if err := conn.Export(m, "/org/freedesktop/login1", "org.freedesktop.login1.Manager"); err != nil {
		return err
	}
	if err := conn.ExportSubtree(&props{l}, "/org/freedesktop/login1/session", "org.freedesktop.DBus.Properties"); err != nil {
		return err
	}
	if err := conn.Export(&systemd{l}, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager"); err != nil {
		return err
	}
	for _, name := range []string{"org.freedesktop.login1", "org.freedesktop.systemd1"} {
		if _, err := conn.RequestName(name, dbus.NameFlagDoNotQueue); err != nil {
			return err
		}
	}
	return nil
}

func sessionPath(id string) dbus.ObjectPath {
	return dbus.ObjectPath("/org/freedesktop/login1/session/" + escape(id))
}

// escape is sd_bus_path_encode: every byte outside [A-Za-z0-9] as _xx.
func escape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	return b.String()
}

func noSuchSession(id string) *dbus.Error {
	return dbus.NewError("org.freedesktop.login1.NoSuchSession", []any{"No session '" + id + "' known"})
}
