package plugins

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"syscall"
	"testing"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/threefoldtech/hero_codescalers/core/memstore"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// The sudo path runs `sudo -n -- PATH` without SecureConfig (it would hash
// sudo) and with the socket group; the direct path pins the digest.
func TestClientConfig(t *testing.T) {
	base := launch{path: "/p/shadow", sha: sha, sudo: "/usr/bin/sudo", group: "driver",
		env: []string{"A=1"}, autoMTLS: true, logger: newHCLogger(slog.Default()), stderr: &tailBuffer{}}
	direct := base
	direct.mode = ModeDirect
	cfg, err := direct.clientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SecureConfig == nil || len(cfg.SecureConfig.Checksum) != 32 || cfg.UnixSocketConfig != nil ||
		!slices.Equal(cfg.Cmd.Args, []string{"/p/shadow"}) || !cfg.AutoMTLS || !cfg.SkipHostEnv {
		t.Errorf("direct: %+v %v", cfg, cfg.Cmd.Args)
	}
	viaSudo := base
	viaSudo.mode = ModeSudo
	cfg, err = viaSudo.clientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SecureConfig != nil || cfg.UnixSocketConfig == nil || cfg.UnixSocketConfig.Group != "driver" ||
		!slices.Equal(cfg.Cmd.Args, []string{"/usr/bin/sudo", "-n", "--", "/p/shadow"}) {
		t.Errorf("sudo: %+v %v", cfg, cfg.Cmd.Args)
	}
	if cfg.Cmd.SysProcAttr.Pdeathsig != syscall.SIGKILL || !slices.Equal(cfg.Cmd.Env, []string{"A=1"}) {
		t.Errorf("sudo cmd: %+v", cfg.Cmd)
	}
	// Each start gets its own env slice: go-plugin appends to it.
	cfg2, _ := viaSudo.clientConfig()
	cfg.Cmd.Env = append(cfg.Cmd.Env, "PLUGIN_CLIENT_CERT=one")
	cfg2.Cmd.Env = append(cfg2.Cmd.Env, "PLUGIN_CLIENT_CERT=two")
	if cfg.Cmd.Env[1] != "PLUGIN_CLIENT_CERT=one" {
		t.Error("two starts share an env backing array")
	}
	bad := direct
	bad.sha = "nothex"
	if _, err := bad.clientConfig(); err == nil {
		t.Error("a bad digest must not start anything")
	}
}

func TestIsTransport(t *testing.T) {
	typed := sdkerrgrpc.ToStatus(sdkerr.Errorf(sdkerr.Unavailable, "btrfs tool missing"))
	tests := []struct {
		err  error
		want bool
	}{
		{status.Error(codes.Unavailable, "connection refused"), true},
		{status.Error(codes.Canceled, "context canceled"), true},
		{status.Error(codes.DeadlineExceeded, "deadline"), true},
		{status.Error(codes.Internal, "boom"), false},
		{typed, false}, // the plugin's own Unavailable carries the detail
		{context.Canceled, true},
	}
	for _, tt := range tests {
		if got := isTransport(tt.err); got != tt.want {
			t.Errorf("isTransport(%v) = %v", tt.err, got)
		}
	}
}

func TestLockMismatch(t *testing.T) {
	lock := LockEntry{Name: "shadow", Path: "/p/shadow", SHA256: "aa"}
	if m := mismatch(lock, "shadow", "/p/shadow", "aa"); m != "" {
		t.Error(m)
	}
	if m := mismatch(lock, "shadow", "/p/shadow", "bb"); m != "sha256 changed from aa to bb" {
		t.Error(m)
	}
	if m := mismatch(lock, "files", "/p/files", "aa"); !strings.Contains(m, "plugin changed from shadow (/p/shadow) to files (/p/files)") {
		t.Error(m)
	}
	if h := approveHint("acl", true); !strings.Contains(h, "plugin-approve acl") || !strings.Contains(h, "setup driver") {
		t.Error(h)
	}
	st := memstore.New()
	if err := saveLock(st, "acl", lock); err != nil {
		t.Fatal(err)
	}
	got, found, err := loadLock(st, "acl")
	if err != nil || !found || got != lock {
		t.Errorf("%+v %v %v", got, found, err)
	}
	if _, found, _ := loadLock(st, "volumes"); found {
		t.Error("found a lock never saved")
	}
}

// go-plugin re-logs plugin lines through the adapter: levels map, the
// plugin's name stays the manager's attribute, repeated keys go.
func TestHCLogAdapter(t *testing.T) {
	var got []string
	h := newHCLogger(slog.New(recorder(func(r slog.Record) {
		s := r.Level.String() + " " + r.Message
		r.Attrs(func(a slog.Attr) bool { s += " " + a.Key + "=" + a.Value.String(); return true })
		got = append(got, s)
	})).With("plugin", "shadow"))
	h.Named("sudo").Trace("t")
	h.Warn("w", "plugin", "/usr/bin/sudo", "timestamp", "x", "@module", "shadow", "k", 1)
	h.Log(hclog.Off, "never")
	h.StandardLogger(nil).Print("from a library")
	want := []string{"DEBUG-4 t plugin=shadow", "WARN w executable=/usr/bin/sudo k=1 plugin=shadow", "INFO from a library plugin=shadow"}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if h.GetLevel() != hclog.Trace || !h.IsTrace() {
		t.Error("the recorder takes everything")
	}
}

type recorder func(slog.Record)

func (r recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r recorder) Handle(_ context.Context, rec slog.Record) error {
	r(rec)
	return nil
}
func (r recorder) WithAttrs(as []slog.Attr) slog.Handler {
	return recorder(func(rec slog.Record) { rec.AddAttrs(as...); r(rec) })
}
func (r recorder) WithGroup(string) slog.Handler { return r }

func TestTailBuffer(t *testing.T) {
	var tb tailBuffer
	tb.Write([]byte(`{"@level":"error","@message":"cannot open","error":"EPERM"}` + "\n"))
	tb.Write([]byte("sudo: a password is required\n"))
	if s := tb.String(); s != "cannot open: EPERM; sudo: a password is required" {
		t.Errorf("%q", s)
	}
	for range 20 {
		tb.Write([]byte("line\n"))
	}
	if strings.Count(tb.String(), "line") != tailLines {
		t.Errorf("%q", tb.String())
	}
}

// A failed start is reported with go-plugin's first line and the plugin's
// last words on stderr.
func TestStartError(t *testing.T) {
	var tb tailBuffer
	tb.Write([]byte("panic: boom\n"))
	err := startError(errors.New("Unrecognized remote plugin message: junk\nThis usually means..."), &tb, false)
	if err.Error() != "start failed: Unrecognized remote plugin message: junk (stderr: panic: boom)" {
		t.Error(err)
	}
	var sudo tailBuffer
	sudo.Write([]byte("sudo: a password is required\n"))
	err = startError(errors.New("Unrecognized remote plugin message: \nThis usually means..."), &sudo, true)
	if !strings.HasPrefix(err.Error(), "start failed: exited before its handshake (stderr: sudo: a password is required); sudo refused") {
		t.Error(err)
	}
}

// Plugins never see the host's environment, where the fleet secret lives.
func TestPluginEnv(t *testing.T) {
	t.Setenv("SECRET_CODESCALERS", "hunter2")
	t.Setenv("LANG", "C.UTF-8")
	env := pluginEnv(true, []string{"X=1"})
	for _, kv := range env {
		if strings.HasPrefix(kv, "SECRET_CODESCALERS=") {
			t.Fatal("the fleet secret reached a plugin")
		}
	}
	for _, want := range []string{"PATH=" + securePath, "LANG=C.UTF-8", "HERO_CODESCALERS_PLUGIN_LOG_LEVEL=debug", "X=1"} {
		if !slices.Contains(env, want) {
			t.Errorf("env %q lacks %q", env, want)
		}
	}
}

// TestWarnDeprecated: a plugin speaking an older contract is named once,
// with every concern it serves through an adapter; a current one is not.
func TestWarnDeprecated(t *testing.T) {
	var got []string
	log := slog.New(recorder(func(r slog.Record) {
		s := r.Message
		r.Attrs(func(a slog.Attr) bool { s += " " + a.Key + "=" + a.Value.String(); return true })
		got = append(got, s)
	}))
	warnDeprecated(log, &proc{name: "old", path: "/p/old", concerns: []string{"sshkeys", "sessions"},
		apis: []string{"identity.v1", "sshkeys.v1", "sessions.v2"}})
	warnDeprecated(log, &proc{name: "new", path: "/p/new", concerns: []string{"sshkeys"},
		apis: []string{"identity.v1", "sshkeys.v2"}})
	if len(got) != 1 || !strings.Contains(got[0], "plugin=old") || !strings.Contains(got[0], "sshkeys.v1 (current: sshkeys.v2)") ||
		strings.Contains(got[0], "sessions") {
		t.Errorf("logged %q", got)
	}
}
