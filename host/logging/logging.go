// Package logging builds the host's logger from --log-level and
// --log-format: text or JSON lines on stderr, and, when stderr is the
// journal (systemd's $JOURNAL_STREAM names it), each line prefixed with
// its syslog priority (<7> debug, <6> info, <4> warning, <3> error) so
// `journalctl -p warning` filters by it, and without a time of its own
// (the journal stamps every line).
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Options shape the logger.
type Options struct {
	Level  *slog.LevelVar // shared, so a reload can change it
	Format string         // "text" (default) or "json"
	// Journal prefixes each line with its priority and drops the time.
	Journal bool
}

// ParseLevel reads debug, info, warn or error ("" is info).
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "", "info":
		return slog.LevelInfo, nil
	case "debug":
		return slog.LevelDebug, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
}

// New returns the logger writing to w.
func New(w io.Writer, o Options) *slog.Logger {
	if o.Level == nil {
		o.Level = new(slog.LevelVar)
	}
	hopts := &slog.HandlerOptions{Level: o.Level}
	if o.Journal {
		hopts.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}
	}
	mk := func(w io.Writer) slog.Handler {
		if o.Format == "json" {
			return slog.NewJSONHandler(w, hopts)
		}
		return slog.NewTextHandler(w, hopts)
	}
	if !o.Journal {
		return slog.New(mk(w))
	}
	h := &journalHandler{}
	for i, p := range priorities {
		h.by[i] = mk(prefixWriter{w: w, prefix: []byte("<" + strconv.Itoa(p.prio) + ">")})
	}
	return slog.New(h)
}

// priorities maps slog levels to syslog priorities, lowest level first.
var priorities = [4]struct {
	level slog.Level
	prio  int
}{{slog.LevelDebug, 7}, {slog.LevelInfo, 6}, {slog.LevelWarn, 4}, {slog.LevelError, 3}}

// journalHandler sends each record to the handler of its priority; the
// four share the level and the attributes.
type journalHandler struct{ by [4]slog.Handler }

func (h *journalHandler) pick(l slog.Level) slog.Handler {
	for i := len(priorities) - 1; i > 0; i-- {
		if l >= priorities[i].level {
			return h.by[i]
		}
	}
	return h.by[0]
}

func (h *journalHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.by[0].Enabled(ctx, l)
}

func (h *journalHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.pick(r.Level).Handle(ctx, r)
}

func (h *journalHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := &journalHandler{}
	for i := range h.by {
		out.by[i] = h.by[i].WithAttrs(attrs)
	}
	return out
}

func (h *journalHandler) WithGroup(name string) slog.Handler {
	out := &journalHandler{}
	for i := range h.by {
		out.by[i] = h.by[i].WithGroup(name)
	}
	return out
}

// prefixWriter writes each line (slog writes one record per Write) with
// the priority in front, in one write so lines never interleave.
type prefixWriter struct {
	w      io.Writer
	prefix []byte
}

func (p prefixWriter) Write(b []byte) (int, error) {
	buf := make([]byte, 0, len(p.prefix)+len(b))
	buf = append(append(buf, p.prefix...), b...)
	if _, err := p.w.Write(buf); err != nil {
		return 0, err
	}
	return len(b), nil
}

// OnJournal reports whether f is the stream systemd connected to the
// journal: $JOURNAL_STREAM holds its device and inode ("dev:ino"), which
// a redirected stderr (a log file, a pipe) no longer matches.
func OnJournal(f *os.File, journalStream string) bool {
	dev, ino, ok := strings.Cut(journalStream, ":")
	if !ok {
		return false
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return false
	}
	return strconv.FormatUint(uint64(st.Dev), 10) == dev && strconv.FormatUint(st.Ino, 10) == ino
}
