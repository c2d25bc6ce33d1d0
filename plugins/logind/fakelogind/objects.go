package fakelogind

import (
	"strconv"
	"syscall"

	"github.com/godbus/dbus/v5"
)

type sessionEntry struct {
	ID   string
	UID  uint32
	User string
	Seat string
	Path dbus.ObjectPath
}

// manager is org.freedesktop.login1.Manager.
type manager struct{ l *Logind }

func (m *manager) ListSessions() ([]sessionEntry, *dbus.Error) {
	m.l.mu.Lock()
	defer m.l.mu.Unlock()
	out := []sessionEntry{}
	for _, s := range m.l.sessions {
		out = append(out, sessionEntry{s.ID, s.UID, s.User, "", sessionPath(s.ID)})
	}
	return out, nil
}

func (m *manager) GetSession(id string) (dbus.ObjectPath, *dbus.Error) {
	m.l.mu.Lock()
	defer m.l.mu.Unlock()
	if _, ok := m.l.sessions[id]; !ok {
		return "", noSuchSession(id)
	}
	return sessionPath(id), nil
}

func (m *manager) GetSessionByPID(pid uint32) (dbus.ObjectPath, *dbus.Error) {
	m.l.mu.Lock()
	defer m.l.mu.Unlock()
	if id, ok := m.l.byPID[pid]; ok {
		return sessionPath(id), nil
	}
	return "", dbus.NewError("org.freedesktop.login1.NoSessionForPID", []any{"PID does not belong to any known session"})
}

// KillSession drops the session's processes unless they ignore sig.
func (m *manager) KillSession(id, who string, sig int32) *dbus.Error {
	m.l.mu.Lock()
	defer m.l.mu.Unlock()
	m.l.calls = append(m.l.calls, Call{"KillSession", id, who, sig})
	s, ok := m.l.sessions[id]
	if !ok {
		return noSuchSession(id)
	}
	if syscall.Signal(sig) != syscall.SIGCONT && !s.Ignore[syscall.Signal(sig)] {
		s.PIDs, s.State = nil, "closing"
	}
	return nil
}

// TerminateSession marks the session closing; it vanishes with its
// processes.
func (m *manager) TerminateSession(id string) *dbus.Error {
	m.l.mu.Lock()
	defer m.l.mu.Unlock()
	m.l.calls = append(m.l.calls, Call{Method: "TerminateSession", ID: id})
	s, ok := m.l.sessions[id]
	if !ok {
		return noSuchSession(id)
	}
	s.State = "closing"
	if len(s.PIDs) == 0 {
		delete(m.l.sessions, id)
	}
	return nil
}

// SetUserLinger records the call; the fake keeps no linger flags.
func (m *manager) SetUserLinger(uid uint32, enable, _ bool) *dbus.Error {
	m.l.mu.Lock()
	defer m.l.mu.Unlock()
	m.l.calls = append(m.l.calls, Call{Method: "SetUserLinger", ID: strconv.FormatUint(uint64(uid), 10) + map[bool]string{true: " on", false: " off"}[enable]})
	return nil
}

// props is org.freedesktop.DBus.Properties of every session object.
type props struct{ l *Logind }

func (p *props) find(msg dbus.Message) (*Session, *dbus.Error) {
	path, _ := msg.Headers[dbus.FieldPath].Value().(dbus.ObjectPath)
	for _, s := range p.l.sessions {
		if sessionPath(s.ID) == path {
			return s, nil
		}
	}
	return nil, dbus.NewError("org.freedesktop.DBus.Error.UnknownObject", []any{"no such object " + string(path)})
}

func (p *props) GetAll(msg dbus.Message, iface string) (map[string]dbus.Variant, *dbus.Error) {
	p.l.mu.Lock()
	defer p.l.mu.Unlock()
	s, err := p.find(msg)
	if err != nil {
		return nil, err
	}
	user := struct {
		UID  uint32
		Path dbus.ObjectPath
	}{s.UID, dbus.ObjectPath("/org/freedesktop/login1/user/_" + strconv.FormatUint(uint64(s.UID), 10))}
	return map[string]dbus.Variant{
		"Id": dbus.MakeVariant(s.ID), "Name": dbus.MakeVariant(s.User), "User": dbus.MakeVariant(user),
		"TTY": dbus.MakeVariant(s.TTY), "RemoteHost": dbus.MakeVariant(s.RemoteHost),
		"Remote": dbus.MakeVariant(s.RemoteHost != ""), "Scope": dbus.MakeVariant(s.Scope()),
		"Leader": dbus.MakeVariant(s.Leader), "Audit": dbus.MakeVariant(uint32(0)),
		"State": dbus.MakeVariant(s.State), "Class": dbus.MakeVariant("user"), "Type": dbus.MakeVariant("tty"),
		"Service": dbus.MakeVariant("sshd"), "Timestamp": dbus.MakeVariant(s.Timestamp),
		"IdleHint": dbus.MakeVariant(s.IdleSinceHint != 0), "IdleSinceHint": dbus.MakeVariant(s.IdleSinceHint),
	}, nil
}

func (p *props) Get(msg dbus.Message, iface, name string) (dbus.Variant, *dbus.Error) {
	all, err := p.GetAll(msg, iface)
	if err != nil {
		return dbus.Variant{}, err
	}
	v, ok := all[name]
	if !ok {
		return dbus.Variant{}, dbus.NewError("org.freedesktop.DBus.Error.UnknownProperty", []any{name})
	}
	return v, nil
}

// systemd is the one call of org.freedesktop.systemd1.Manager used.
type systemd struct{ l *Logind }

type unitProcess struct {
	CGroup  string
	PID     uint32
	Command string
}

func (d *systemd) GetUnitProcesses(unit string) ([]unitProcess, *dbus.Error) {
	d.l.mu.Lock()
	defer d.l.mu.Unlock()
	for _, s := range d.l.sessions {
		if s.Scope() == unit {
			out := []unitProcess{}
			for _, pid := range s.PIDs {
				out = append(out, unitProcess{"/user.slice/" + unit, pid, "sleep 600"})
			}
			return out, nil
		}
	}
	return nil, dbus.NewError("org.freedesktop.systemd1.NoSuchUnit", []any{"Unit " + unit + " not loaded."})
}
