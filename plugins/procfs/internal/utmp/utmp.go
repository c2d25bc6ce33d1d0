// Package utmp reads the login records glibc keeps in /var/run/utmp. It
// parses the file itself rather than through cgo's getutent, so the plugin
// stays a static Go binary, and it only reads: login programs (sshd, login)
// own the file.
package utmp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultPath is glibc's _PATH_UTMP.
const DefaultPath = "/var/run/utmp"

// RecordSize is sizeof(struct utmp) in glibc on x86: ut_tv holds two
// 32-bit fields there (__WORDSIZE_TIME64_COMPAT32), so every record is
// 384 bytes on amd64 and 386 alike.
const RecordSize = 384

// The ut_type values this package names.
const (
	BootTime    = 2
	InitProcess = 5
	LoginProc   = 6
	UserProcess = 7 // a logged-in user
	DeadProcess = 8
)

// Field offsets of glibc's struct utmp on x86.
const (
	offType    = 0
	offPID     = 4
	offLine    = 8   // char ut_line[32]
	offID      = 40  // char ut_id[4]
	offUser    = 44  // char ut_user[32]
	offHost    = 76  // char ut_host[256]
	offSession = 336 // int32 ut_session
	offTvSec   = 340 // int32 ut_tv.tv_sec
	offTvUsec  = 344 // int32 ut_tv.tv_usec
)

// maxSize bounds what Read reads: 40,000 records, far beyond a real host.
const maxSize = 40000 * RecordSize

// ErrLayout is returned where this package does not know the C layout.
var ErrLayout = errors.New("utmp: the record layout of glibc on " + runtime.GOARCH + " is not known; only x86 is parsed")

// Record is one utmp entry.
type Record struct {
	Type    int16
	PID     int
	Line    string // device name without /dev/: "pts/0"
	ID      string // inittab id or the tty's suffix
	User    string
	Host    string // remote host, or "" for a local login
	Session int
	Time    time.Time // when the record was written
}

// Supported reports whether this machine's layout is the one parsed here.
func Supported() bool { return runtime.GOARCH == "amd64" || runtime.GOARCH == "386" }

// Parse decodes whole records from b, ignoring a trailing partial one.
func Parse(b []byte) []Record {
	out := make([]Record, 0, len(b)/RecordSize)
	for ; len(b) >= RecordSize; b = b[RecordSize:] {
		out = append(out, decode(b[:RecordSize]))
	}
	return out
}

func decode(r []byte) Record {
	le := binary.LittleEndian
	return Record{
		Type:    int16(le.Uint16(r[offType:])),
		PID:     int(int32(le.Uint32(r[offPID:]))),
		Line:    cstring(r[offLine : offLine+32]),
		ID:      cstring(r[offID : offID+4]),
		User:    cstring(r[offUser : offUser+32]),
		Host:    cstring(r[offHost : offHost+256]),
		Session: int(int32(le.Uint32(r[offSession:]))),
		Time: time.Unix(int64(int32(le.Uint32(r[offTvSec:]))),
			int64(int32(le.Uint32(r[offTvUsec:])))*1000),
	}
}

// Encode is the inverse of decode, for tests and fixtures.
func Encode(rec Record) []byte {
	r := make([]byte, RecordSize)
	le := binary.LittleEndian
	le.PutUint16(r[offType:], uint16(rec.Type))
	le.PutUint32(r[offPID:], uint32(int32(rec.PID)))
	copy(r[offLine:offLine+32], rec.Line)
	copy(r[offID:offID+4], rec.ID)
	copy(r[offUser:offUser+32], rec.User)
	copy(r[offHost:offHost+256], rec.Host)
	le.PutUint32(r[offSession:], uint32(int32(rec.Session)))
	le.PutUint32(r[offTvSec:], uint32(int32(rec.Time.Unix())))
	le.PutUint32(r[offTvUsec:], uint32(int32(rec.Time.Nanosecond()/1000)))
	return r
}

func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// Read returns the records of the utmp file at path. A missing file is no
// records, not an error: many containers have none. The file itself is
// never followed through a symlink, and it is read under a shared fcntl
// lock when one can be had quickly, as glibc's getutent does, so a record
// being rewritten is not read half-written.
func Read(path string) ([]Record, error) {
	if !Supported() {
		return nil, ErrLayout
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	readLock(fd)
	b, err := io.ReadAll(io.LimitReader(f, maxSize))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return Parse(b), nil
}

// readLock takes a shared lock on the whole file, trying for up to about
// 100ms; a writer that holds it longer is not waited for (glibc itself
// gives up after a timeout). Closing the file releases it.
func readLock(fd int) {
	lk := unix.Flock_t{Type: unix.F_RDLCK, Whence: io.SeekStart}
	wait := time.Millisecond
	for i := 0; i < 7; i++ {
		if err := unix.FcntlFlock(uintptr(fd), unix.F_SETLK, &lk); err == nil {
			return
		}
		time.Sleep(wait)
		wait *= 2
	}
}
