package state

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// badgerLogger routes Badger's logging into the host's slog logger. Badger
// is chatty at info level (every table opened, every memtable flushed);
// only its warnings and errors say something an operator must act on, so
// info and debug are dropped.
type badgerLogger struct{ log *slog.Logger }

var _ badger.Logger = badgerLogger{}

func (l badgerLogger) Errorf(format string, args ...any) {
	l.log.Error(badgerMessage(format, args), "component", "badger")
}

func (l badgerLogger) Warningf(format string, args ...any) {
	l.log.Warn(badgerMessage(format, args), "component", "badger")
}

func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}

// badgerMessage formats a Badger log line; Badger ends them with a newline
// that slog would print literally.
func badgerMessage(format string, args []any) string {
	return strings.TrimRight(fmt.Sprintf(format, args...), "\n")
}
