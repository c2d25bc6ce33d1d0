// Package login1 is a small client of systemd-logind's D-Bus API
// (org.freedesktop.login1) and of the one systemd call it needs
// (GetUnitProcesses), over github.com/godbus/dbus/v5: a well-kept, pure-Go
// D-Bus implementation, so no D-Bus wire code is written here. Errors come
// back typed: a missing session is NotFound, a missing logind or bus is
// Unavailable.
package login1

import (
	"context"
	"syscall"
	"time"

	"github.com/godbus/dbus/v5"
)

// The bus names, paths and interfaces used.
const (
	Dest         = "org.freedesktop.login1"
	ManagerPath  = dbus.ObjectPath("/org/freedesktop/login1")
	ManagerIface = "org.freedesktop.login1.Manager"
	SessionIface = "org.freedesktop.login1.Session"

	SystemdDest         = "org.freedesktop.systemd1"
	SystemdPath         = dbus.ObjectPath("/org/freedesktop/systemd1")
	SystemdManagerIface = "org.freedesktop.systemd1.Manager"
)

// SessionRef is one entry of ListSessions: a(susso).
type SessionRef struct {
	ID   string
	UID  uint32
	User string
	Seat string
	Path dbus.ObjectPath
}

// Session holds the properties of an org.freedesktop.login1.Session.
type Session struct {
	ID         string
	UID        uint32
	User       string
	TTY        string
	RemoteHost string
	Remote     bool
	Scope      string // the systemd scope unit holding its processes
	Leader     uint32
	Audit      uint32
	State      string // online, active, closing
	Class      string
	Type       string
	Service    string
	Started    time.Time // Timestamp
	IdleSince  time.Time // IdleSinceHint; zero when logind has none
	IdleHint   bool
}

// Client talks to logind over one bus connection.
type Client struct {
	conn *dbus.Conn
}

// Dial connects to the system bus ($DBUS_SYSTEM_BUS_ADDRESS, else
// /run/dbus/system_bus_socket). Failing that, logind is unavailable.
func Dial(ctx context.Context) (*Client, error) {
	conn, err := dbus.ConnectSystemBus(dbus.WithContext(ctx))
	if err != nil {
		return nil, unavailable(err)
	}
	return &Client{conn: conn}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

func (c *Client) manager() dbus.BusObject { return c.conn.Object(Dest, ManagerPath) }

// Running reports whether logind owns its name on the bus.
func (c *Client) Running(ctx context.Context) (bool, error) {
	var has bool
	err := c.conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, Dest).Store(&has)
	return has, mapError(err, "NameHasOwner")
}

// ListSessions calls Manager.ListSessions.
func (c *Client) ListSessions(ctx context.Context) ([]SessionRef, error) {
	var raw []struct {
		ID   string
		UID  uint32
		User string
		Seat string
		Path dbus.ObjectPath
	}
	if err := c.manager().CallWithContext(ctx, ManagerIface+".ListSessions", 0).Store(&raw); err != nil {
		return nil, mapError(err, "ListSessions")
	}
	out := make([]SessionRef, len(raw))
	for i, r := range raw {
		out[i] = SessionRef(r)
	}
	return out, nil
}

// Session reads the properties of session id.
func (c *Client) Session(ctx context.Context, id string) (Session, error) {
	var path dbus.ObjectPath
	if err := c.manager().CallWithContext(ctx, ManagerIface+".GetSession", 0, id).Store(&path); err != nil {
		return Session{}, mapError(err, "GetSession "+id)
	}
	var props map[string]dbus.Variant
	err := c.conn.Object(Dest, path).CallWithContext(ctx, "org.freedesktop.DBus.Properties.GetAll", 0, SessionIface).Store(&props)
	if err != nil {
		return Session{}, mapError(err, "GetAll "+string(path))
	}
	return DecodeSession(props)
}

// SessionOfPID returns the id of the session pid belongs to.
func (c *Client) SessionOfPID(ctx context.Context, pid uint32) (string, error) {
	var path dbus.ObjectPath
	if err := c.manager().CallWithContext(ctx, ManagerIface+".GetSessionByPID", 0, pid).Store(&path); err != nil {
		return "", mapError(err, "GetSessionByPID")
	}
	var id dbus.Variant
	if err := c.conn.Object(Dest, path).CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, SessionIface, "Id").Store(&id); err != nil {
		return "", mapError(err, "Get Id")
	}
	s, _ := id.Value().(string)
	return s, nil
}

// UnitPIDs lists the processes of a systemd unit (a session's scope).
func (c *Client) UnitPIDs(ctx context.Context, unit string) ([]int, error) {
	var raw []struct {
		CGroup  string
		PID     uint32
		Command string
	}
	obj := c.conn.Object(SystemdDest, SystemdPath)
	if err := obj.CallWithContext(ctx, SystemdManagerIface+".GetUnitProcesses", 0, unit).Store(&raw); err != nil {
		return nil, mapError(err, "GetUnitProcesses "+unit)
	}
	out := make([]int, len(raw))
	for i, r := range raw {
		out[i] = int(r.PID)
	}
	return out, nil
}

// KillSession sends sig to the session's leader ("leader") or all its
// processes ("all").
func (c *Client) KillSession(ctx context.Context, id, who string, sig syscall.Signal) error {
	err := c.manager().CallWithContext(ctx, ManagerIface+".KillSession", 0, id, who, int32(sig)).Err
	return mapError(err, "KillSession "+id)
}

// TerminateSession makes logind stop the session's scope.
func (c *Client) TerminateSession(ctx context.Context, id string) error {
	err := c.manager().CallWithContext(ctx, ManagerIface+".TerminateSession", 0, id).Err
	return mapError(err, "TerminateSession "+id)
}

// SetUserLinger turns the user's linger flag on or off, without asking
// polkit (the plugin is root).
func (c *Client) SetUserLinger(ctx context.Context, uid uint32, enable bool) error {
	err := c.manager().CallWithContext(ctx, ManagerIface+".SetUserLinger", 0, uid, enable, false).Err
	return mapError(err, "SetUserLinger")
}
