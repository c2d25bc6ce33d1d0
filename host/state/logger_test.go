package state

import (
	"strings"
	"testing"
)

func TestBadgerLogger(t *testing.T) {
	var out logBuffer
	l := badgerLogger{log: out.logger()}
	l.Debugf("replaying %d\n", 1)
	l.Infof("All %d tables opened\n", 3)
	l.Warningf("value log %s is big\n", "000001.vlog")
	l.Errorf("compaction failed: %v", "disk full")
	got := out.String()
	for _, want := range []string{
		`level=WARN msg="value log 000001.vlog is big" component=badger`,
		`level=ERROR msg="compaction failed: disk full" component=badger`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "replaying") || strings.Contains(got, "tables opened") {
		t.Errorf("Badger's info and debug chatter leaked:\n%s", got)
	}
}
