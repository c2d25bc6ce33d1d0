package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk"
)

// Runner runs a command without a shell and returns its stdout; a failed
// command is an *sdk.Error from sdk.CommandError. Tests swap it.
type Runner func(ctx context.Context, argv ...string) ([]byte, error)

func execRun(ctx context.Context, argv ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return nil, sdk.CommandError(argv, exit.ExitCode(), stderr.String())
	} else if err != nil {
		return nil, sdk.Errorf(sdk.Unavailable, "run %s: %v", argv[0], err)
	}
	return stdout.Bytes(), nil
}

var (
	dirRE    = regexp.MustCompile(`^tmux-([0-9]+)$`)
	socketRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	idRE     = regexp.MustCompile(`^([0-9]+)\.([A-Za-z0-9_-]{1,64})\.([0-9]+)$`)
)

// server is one tmux server: its owner and socket.
type server struct {
	uid    int
	user   string
	name   string // socket file name
	socket string
}

func (t *Tmux) root() string {
	if t.Root != "" {
		return t.Root
	}
	return "/tmp"
}

// servers finds the sockets of uid (or of everyone when uid < 0). A
// directory or socket not owned by its uid, or writable by others, is
// skipped: it is not that user's tmux.
func (t *Tmux) servers(uid int) ([]server, error) {
	entries, err := os.ReadDir(t.root())
	if err != nil {
		return nil, sdk.Errorf(sdk.Unavailable, "read %s: %v", t.root(), err)
	}
	var out []server
	for _, e := range entries {
		m := dirRE.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		owner, _ := strconv.Atoi(m[1])
		if uid >= 0 && owner != uid {
			continue
		}
		dir := filepath.Join(t.root(), e.Name())
		if !ownedBy(dir, owner, true) {
			continue
		}
		out = append(out, socketsIn(dir, owner)...)
	}
	return out, nil
}

func socketsIn(dir string, uid int) []server {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	name := strconv.Itoa(uid)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	var out []server
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if socketRE.MatchString(e.Name()) && ownedBy(path, uid, false) {
			out = append(out, server{uid: uid, user: name, name: e.Name(), socket: path})
		}
	}
	return out
}

// ownedBy checks, without following a symlink, that path is a directory
// (or a socket) owned by uid and not writable by group or others.
func ownedBy(path string, uid int, dir bool) bool {
	fi, err := os.Lstat(path)
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || int(st.Uid) != uid {
		return false
	}
	if dir {
		return fi.IsDir() && fi.Mode().Perm()&0o022 == 0
	}
	return fi.Mode()&os.ModeSocket != 0
}

// notRunning reports a tmux error that only means no server (or session)
// is there; killing a server's last session ends the server, which tmux
// reports as "server exited unexpectedly".
func notRunning(err error) bool {
	var e *sdk.Error
	if !errors.As(err, &e) {
		return false
	}
	// "no current target": the server is exiting after its last session
	// ended, and the session named is already gone.
	return strings.Contains(e.Stderr, "no server running") || strings.Contains(e.Stderr, "error connecting") ||
		strings.Contains(e.Stderr, "can't find session") || strings.Contains(e.Stderr, "server exited unexpectedly") ||
		strings.Contains(e.Stderr, "no current target")
}

func uidOf(name string) (int, bool) {
	u, err := user.Lookup(name)
	if err != nil {
		return 0, false
	}
	uid, err := strconv.Atoi(u.Uid)
	return uid, err == nil
}

func sessionID(s server, n string) string { return fmt.Sprintf("%d.%s.%s", s.uid, s.name, n) }

func unixTime(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n == 0 {
		return time.Time{}
	}
	return time.Unix(n, 0)
}
