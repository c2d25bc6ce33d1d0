package plugins

import (
	"bytes"
	"context"
	"io"
	"log"
	"log/slog"
	"strings"

	hclog "github.com/hashicorp/go-hclog"
)

// levelTrace is hclog's Trace in slog terms: below Debug.
const levelTrace = slog.LevelDebug - 4

// hclogger is an hclog.Logger over the host's *slog.Logger. go-plugin
// parses each JSON line a plugin writes to stderr and re-logs it through
// ClientConfig.Logger, so handing it one of these puts plugin logs into the
// host log, at their own level, with the plugin's name attached.
//
// Named is a no-op: go-plugin names its stderr logger after the executable,
// which is "sudo" on the unprivileged path; the "plugin" attribute the
// manager sets already says who is speaking.
type hclogger struct {
	log     *slog.Logger
	implied []any
}

var _ hclog.Logger = (*hclogger)(nil)

func newHCLogger(l *slog.Logger) *hclogger { return &hclogger{log: l} }

func toSlog(level hclog.Level) slog.Level {
	switch level {
	case hclog.Trace:
		return levelTrace
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	}
	return slog.LevelInfo
}

func (h *hclogger) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off {
		return
	}
	h.log.Log(context.Background(), toSlog(level), msg, tidy(args)...)
}

// tidy adapts go-plugin's key-value pairs to the host log: its "plugin"
// key (the executable's path) would clash with the manager's "plugin"
// (the plugin's name), and the "timestamp" and "@module" it copies from
// each plugin line repeat what the host record already says.
func tidy(args []any) []any {
	out := args[:0:0]
	for i := 0; i+1 < len(args); i += 2 {
		switch args[i] {
		case "plugin":
			out = append(out, "executable", args[i+1])
		case "timestamp", "@module":
		default:
			out = append(out, args[i], args[i+1])
		}
	}
	if len(args)%2 == 1 {
		out = append(out, args[len(args)-1])
	}
	return out
}

func (h *hclogger) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }
func (h *hclogger) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }
func (h *hclogger) Info(msg string, args ...any)  { h.Log(hclog.Info, msg, args...) }
func (h *hclogger) Warn(msg string, args ...any)  { h.Log(hclog.Warn, msg, args...) }
func (h *hclogger) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }

func (h *hclogger) enabled(l slog.Level) bool { return h.log.Enabled(context.Background(), l) }

func (h *hclogger) IsTrace() bool { return h.enabled(levelTrace) }
func (h *hclogger) IsDebug() bool { return h.enabled(slog.LevelDebug) }
func (h *hclogger) IsInfo() bool  { return h.enabled(slog.LevelInfo) }
func (h *hclogger) IsWarn() bool  { return h.enabled(slog.LevelWarn) }
func (h *hclogger) IsError() bool { return h.enabled(slog.LevelError) }

func (h *hclogger) ImpliedArgs() []any { return h.implied }

func (h *hclogger) With(args ...any) hclog.Logger {
	return &hclogger{log: h.log.With(args...), implied: append(append([]any(nil), h.implied...), args...)}
}

func (h *hclogger) Name() string                                          { return "" }
func (h *hclogger) Named(string) hclog.Logger                             { return h }
func (h *hclogger) ResetNamed(string) hclog.Logger                        { return h }
func (h *hclogger) SetLevel(hclog.Level)                                  {} // the slog handler decides
func (h *hclogger) StandardWriter(*hclog.StandardLoggerOptions) io.Writer { return lineWriter{h} }

// GetLevel reports the lowest level the slog handler lets through, so
// go-plugin skips parsing lines that would be dropped anyway.
func (h *hclogger) GetLevel() hclog.Level {
	for _, l := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error} {
		if h.enabled(toSlog(l)) {
			return l
		}
	}
	return hclog.Off
}

func (h *hclogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(h.StandardWriter(opts), "", 0)
}

// lineWriter logs each written line at Info, for libraries that want an
// io.Writer or a *log.Logger.
type lineWriter struct{ h *hclogger }

func (w lineWriter) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		if s := strings.TrimSpace(string(line)); s != "" {
			w.h.Info(s)
		}
	}
	return len(p), nil
}
