package sessionsgrpc

import (
	"time"

	sessionsv2 "github.com/threefoldtech/hero_codescalers/sdk/proto/sessions/v2"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
)

func graceMs(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	return uint32(min(d.Milliseconds(), int64(^uint32(0))))
}

func sessionToProto(s sessions.Session) *sessionsv2.Session {
	pids := make([]int32, len(s.PIDs))
	for i, p := range s.PIDs {
		pids[i] = int32(p)
	}
	var started int64
	if !s.Started.IsZero() {
		started = s.Started.Unix()
	}
	return &sessionsv2.Session{Id: s.ID, User: s.User, Tty: s.TTY, RemoteHost: s.RemoteHost,
		Started: started, IdleSecs: int64(s.Idle / time.Second), Pids: pids}
}

func sessionFromProto(s *sessionsv2.Session) sessions.Session {
	pids := make([]int, len(s.GetPids()))
	for i, p := range s.GetPids() {
		pids[i] = int(p)
	}
	var started time.Time
	if s.GetStarted() != 0 {
		started = time.Unix(s.GetStarted(), 0)
	}
	return sessions.Session{ID: s.GetId(), User: s.GetUser(), TTY: s.GetTty(), RemoteHost: s.GetRemoteHost(),
		Started: started, Idle: time.Duration(s.GetIdleSecs()) * time.Second, PIDs: pids}
}
