package logging

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestJournalPriorities(t *testing.T) {
	var b bytes.Buffer
	lv := new(slog.LevelVar)
	lv.Set(slog.LevelDebug)
	log := New(&b, Options{Level: lv, Journal: true}).With("component", "x")
	log.Debug("d")
	log.Info("i")
	log.Warn("w")
	log.Error("e")
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	for i, want := range []string{"<7>level=DEBUG msg=d component=x", "<6>level=INFO msg=i", "<4>level=WARN", "<3>level=ERROR"} {
		if !strings.HasPrefix(lines[i], want) || strings.Contains(lines[i], "time=") {
			t.Errorf("line %d: %q, want prefix %q and no time", i, lines[i], want)
		}
	}
}

func TestJSONAndLevel(t *testing.T) {
	var b bytes.Buffer
	lv := new(slog.LevelVar)
	lv.Set(slog.LevelWarn)
	log := New(&b, Options{Level: lv, Format: "json"})
	log.Info("hidden")
	log.Warn("shown", "n", 1)
	var rec map[string]any
	if err := json.Unmarshal(b.Bytes(), &rec); err != nil || rec["msg"] != "shown" || rec["level"] != "WARN" {
		t.Fatalf("%q: %v", b.String(), err)
	}
	lv.Set(slog.LevelInfo) // a reload
	log.Info("now shown")
	if !strings.Contains(b.String(), "now shown") {
		t.Fatal("the level var does not take effect")
	}
}

func TestOnJournal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "s")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st syscall.Stat_t
	syscall.Fstat(int(f.Fd()), &st)
	if !OnJournal(f, fmt.Sprintf("%d:%d", st.Dev, st.Ino)) || OnJournal(f, fmt.Sprintf("%d:%d", st.Dev, st.Ino+1)) || OnJournal(f, "") {
		t.Fatal("OnJournal does not match the stream")
	}
}
