package files

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/plugins/internal/osutil"
)

// What useradd and userdel do besides editing the account files, and
// whether this plugin can do it too. Where it cannot, Probe says not ready
// with the reason, and the host falls back to the shadow plugin (logged,
// and shown by plugin-list as passed over).

// unhonoured names the first setting of the machine that only the
// shadow-utils tools honour, or "".
func unhonoured(etc string) string {
	defs := etcdb.LoginDefs(etc)
	for _, key := range []string{"USERADD_CMD", "USERDEL_PRE_CMD", "USERDEL_CMD"} {
		if defs[key] != "" {
			return filepath.Join(etc, "login.defs") + " sets " + key + " (a script only userdel/useradd run)"
		}
	}
	if v := etcdb.UseraddDefaults(etc)["CREATE_MAIL_SPOOL"]; strings.EqualFold(v, "yes") {
		return filepath.Join(etc, "default/useradd") + " sets CREATE_MAIL_SPOOL=yes"
	}
	if fi, err := os.Stat(filepath.Join(etc, "tcb")); err == nil && fi.IsDir() {
		return filepath.Join(etc, "tcb") + " exists (tcb shadow files)"
	}
	if lastlog := logFile(etc, lastlogName); lastlogSize() == 0 && exists(lastlog) {
		return lastlog + " exists and its record size on " + runtime.GOARCH + " is not known here"
	}
	return ""
}

// The records useradd zeroes for a new uid, so that a former owner's last
// login or failures do not show for the new user: var/log's lastlog and
// faillog beside the account files' etc (/var/log for /etc, as useradd
// --root finds them; a test's etc copy has its own, or none).
const (
	lastlogName = "lastlog"
	faillogName = "faillog"
	// faillogSize is sizeof(struct faillog) on 64-bit Linux.
	faillogSize = 32
)

// logFile is the log name of the root whose etc is etc.
func logFile(etc, name string) string {
	return filepath.Join(filepath.Dir(filepath.Clean(etc)), "var", "log", name)
}

// lastlogSize is sizeof(struct lastlog) in glibc: a 32-bit time on
// x86-64 (__WORDSIZE_TIME64_COMPAT32), a 64-bit one on arm64; 0 unknown.
func lastlogSize() int64 {
	switch runtime.GOARCH {
	case "amd64":
		return 292
	case "arm64":
		return 296
	}
	return 0
}

// resetLogs does useradd's lastlog_reset and faillog_reset for uid:
// lastlog's record (up to LASTLOG_UID_MAX) is written as zeros when the
// file exists, faillog's only when the file already reaches past it. A
// failure is not the create's: the account is made.
func resetLogs(etc string, uid uint32, defs map[string]string) {
	maxUID := uint64(0xFFFFFFFF)
	if v, err := strconv.ParseUint(defs["LASTLOG_UID_MAX"], 10, 32); err == nil {
		maxUID = v
	}
	if size := lastlogSize(); size > 0 && uint64(uid) <= maxUID {
		zeroRecord(logFile(etc, lastlogName), int64(uid)*size, size, false)
	}
	zeroRecord(logFile(etc, faillogName), int64(uid)*faillogSize, faillogSize, true)
}

func zeroRecord(path string, off, size int64, onlyWithin bool) {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || (onlyWithin && st.Size <= off) {
		return
	}
	_, _ = unix.Pwrite(fd, make([]byte, size), off)
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// flushCaches tells the name service caches that run here that the
// account files changed, as shadow-utils does after each change: nscd -i
// passwd and -i group when nscd answers on its socket, sss_cache -U -G
// when sssd's pid file names a live process. Neither running costs two
// stat calls; their failure is logged by the tool and not the change's.
func flushCaches(ctx context.Context) {
	if nscdRuns() {
		for _, db := range []string{"passwd", "group"} {
			_, _ = osutil.Exec{}.Run(ctx, []string{"nscd", "-i", db}, nil)
		}
	}
	if sssdRuns() {
		_, _ = osutil.Exec{}.Run(ctx, []string{"sss_cache", "-U", "-G"}, nil)
	}
}

var (
	nscdSockets  = []string{"/run/nscd/socket", "/var/run/nscd/socket"}
	sssdPidFiles = []string{"/run/sssd.pid", "/var/run/sssd.pid"}
)

func nscdRuns() bool {
	for _, s := range nscdSockets {
		if !exists(s) {
			continue
		}
		c, err := net.DialTimeout("unix", s, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return true
		}
	}
	return false
}

func sssdRuns() bool {
	for _, p := range sssdPidFiles {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err == nil && pid > 0 && !errors.Is(unix.Kill(pid, 0), unix.ESRCH) {
			return true
		}
	}
	return false
}
