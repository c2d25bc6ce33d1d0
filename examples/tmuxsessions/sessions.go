package main

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions/guard"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions/uidkill"
)

// Tmux lists and kills the tmux sessions of every user, found through the
// tmux server sockets in <Root>/tmux-<uid>/ (Root is $TMUX_TMPDIR, /tmp by
// default). A session's id is "<uid>.<socket>.<n>" for tmux's session $n.
type Tmux struct {
	sessions.Unimplemented // a later contract method answers Unimplemented
	Root                   string
	Run                    Runner
	// Guard judges which users KillUser may end (the policy's managed
	// accounts); guard.Load() on first use when nil.
	Guard *guard.Guard
}

var _ sessions.Sessions = (*Tmux)(nil)

// listFormat asks tmux for one tab-separated line per session.
const listFormat = "#{session_id}\t#{session_created}\t#{session_activity}\t#{session_attached}"

// ListSessions lists the sessions of user, or of every user.
func (t *Tmux) ListSessions(ctx context.Context, user string) ([]sessions.Session, error) {
	uid := -1
	if user != "" {
		var ok bool
		if uid, ok = uidOf(user); !ok {
			return nil, nil // no such user: no sessions
		}
	}
	servers, err := t.servers(uid)
	if err != nil {
		return nil, err
	}
	var out []sessions.Session
	for _, s := range servers {
		list, err := t.list(ctx, s)
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
	}
	return out, nil
}

func (t *Tmux) list(ctx context.Context, s server) ([]sessions.Session, error) {
	raw, err := t.Run(ctx, "tmux", "-S", s.socket, "list-sessions", "-F", listFormat)
	if notRunning(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	pids, err := t.panePIDs(ctx, s)
	if err != nil {
		return nil, err
	}
	var out []sessions.Session
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 || !strings.HasPrefix(f[0], "$") {
			continue
		}
		n := strings.TrimPrefix(f[0], "$")
		se := sessions.Session{ID: sessionID(s, n), User: s.user, Started: unixTime(f[1]), PIDs: pids[f[0]]}
		if last := unixTime(f[2]); !last.IsZero() {
			se.Idle = time.Since(last).Truncate(time.Second)
		}
		out = append(out, se)
	}
	return out, nil
}

// panePIDs maps each session id ("$3") to its panes' process ids.
func (t *Tmux) panePIDs(ctx context.Context, s server) (map[string][]int, error) {
	raw, err := t.Run(ctx, "tmux", "-S", s.socket, "list-panes", "-a", "-F", "#{session_id} #{pane_pid}")
	if notRunning(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	out := map[string][]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		id, pid, ok := strings.Cut(line, " ")
		if n, err := strconv.Atoi(pid); ok && err == nil {
			out[id] = append(out[id], n)
		}
	}
	return out, nil
}

// KillSession ends one tmux session; tmux sends its panes SIGHUP. The
// grace period is not used: tmux gives no way to wait and escalate, which
// a real sessions plugin (procfs, logind) does. A session already gone, or
// an id this plugin never made, is ended already.
func (t *Tmux) KillSession(ctx context.Context, id string, _ time.Duration) error {
	m := idRE.FindStringSubmatch(id)
	if m == nil {
		return nil
	}
	uid, _ := strconv.Atoi(m[1])
	socket := filepath.Join(t.root(), "tmux-"+m[1], m[2])
	if !ownedBy(filepath.Dir(socket), uid, true) || !ownedBy(socket, uid, false) {
		return nil
	}
	_, err := t.Run(ctx, "tmux", "-S", socket, "kill-session", "-t", "$"+m[3])
	if notRunning(err) {
		return nil
	}
	return err
}

// KillUserSessions ends all of user's tmux sessions.
func (t *Tmux) KillUserSessions(ctx context.Context, user string, grace time.Duration) (int, error) {
	list, err := t.ListSessions(ctx, user)
	if err != nil {
		return 0, err
	}
	for _, s := range list {
		if err := t.KillSession(ctx, s.ID, grace); err != nil {
			return 0, err
		}
	}
	return len(list), nil
}

// KillUser ends user's tmux sessions, then every other process of its uid:
// a delete or a lock needs the account idle, and a process outside tmux is
// no session of this plugin's. The uid is judged by the root-owned policy
// (sdk/sessions/guard), never taken from the caller, and signalled with
// sdk/sessions/uidkill, which no forking process can outrun.
func (t *Tmux) KillUser(ctx context.Context, user string, grace time.Duration) (sessions.Ended, error) {
	uid, err := t.guard().UID(user)
	if sdk.IsCode(err, sdk.NotFound) {
		return sessions.Ended{}, nil // no account, nothing of it runs
	} else if err != nil {
		return sessions.Ended{}, err
	}
	var e sessions.Ended
	if e.Sessions, err = t.KillUserSessions(ctx, user, grace); err != nil {
		return e, err
	}
	e.Processes, err = uidkill.Killer{}.End(ctx, uid, grace)
	return e, err
}

func (t *Tmux) guard() *guard.Guard {
	if t.Guard == nil {
		t.Guard = guard.Load()
	}
	return t.Guard
}
