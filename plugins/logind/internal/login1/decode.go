package login1

import (
	"fmt"
	"time"

	"github.com/godbus/dbus/v5"
)

// DecodeSession maps the properties of a Session object, as GetAll
// returns them, to a Session. Id and User are required; the others keep
// their zero value when absent (older logind versions lack some).
func DecodeSession(p map[string]dbus.Variant) (Session, error) {
	var s Session
	d := decoder{p: p}
	d.str("Id", &s.ID)
	d.str("Name", &s.User)
	d.str("TTY", &s.TTY)
	d.str("RemoteHost", &s.RemoteHost)
	d.str("Scope", &s.Scope)
	d.str("State", &s.State)
	d.str("Class", &s.Class)
	d.str("Type", &s.Type)
	d.str("Service", &s.Service)
	d.u32("Leader", &s.Leader)
	d.u32("Audit", &s.Audit)
	d.boolean("Remote", &s.Remote)
	d.boolean("IdleHint", &s.IdleHint)
	s.Started = d.usec("Timestamp")
	s.IdleSince = d.usec("IdleSinceHint")
	if v, ok := p["User"]; ok {
		// (uo): the uid and the user's object path
		var u struct {
			UID  uint32
			Path dbus.ObjectPath
		}
		if err := dbus.Store([]any{v.Value()}, &u); err != nil {
			d.fail("User", v, err)
		}
		s.UID = u.UID
	}
	if d.err == nil && s.ID == "" {
		d.err = fmt.Errorf("session without an Id")
	}
	return s, d.err
}

// decoder keeps the first type mismatch, naming the property.
type decoder struct {
	p   map[string]dbus.Variant
	err error
}

func (d *decoder) fail(name string, v dbus.Variant, err error) {
	if d.err == nil {
		d.err = fmt.Errorf("session property %s: %s: %v", name, v.Signature(), err)
	}
}

func (d *decoder) str(name string, dst *string) {
	if v, ok := d.p[name]; ok {
		if err := v.Store(dst); err != nil {
			d.fail(name, v, err)
		}
	}
}

func (d *decoder) u32(name string, dst *uint32) {
	if v, ok := d.p[name]; ok {
		if err := v.Store(dst); err != nil {
			d.fail(name, v, err)
		}
	}
}

func (d *decoder) boolean(name string, dst *bool) {
	if v, ok := d.p[name]; ok {
		if err := v.Store(dst); err != nil {
			d.fail(name, v, err)
		}
	}
}

// usec reads a CLOCK_REALTIME timestamp in microseconds; 0 is no time.
func (d *decoder) usec(name string) time.Time {
	var us uint64
	if v, ok := d.p[name]; ok {
		if err := v.Store(&us); err != nil {
			d.fail(name, v, err)
		}
	}
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(int64(us))
}
