package fleet

import "testing"

// TestWatchGapLeftToResync: a watch begins from now on, so what was
// written between the last resync's read (or the end of a watch) and the
// start of the next watch never comes through it. The revisions the watch
// delivers count as applied only when they follow what was applied;
// otherwise the bucket's last revision stays ahead of appliedSeq and the
// next resync reads the bucket (before, appliedSeq jumped to the watch's
// revision and the resync took the missed write as applied).
func TestWatchGapLeftToResync(t *testing.T) {
	ag := &agent{lastSeq: 10, appliedSeq: 10}
	ag.delivered(12) // 11 was written before this watch began
	if ag.appliedSeq != 10 {
		t.Fatalf("appliedSeq %d after a gap, want 10: the resync would skip revision 11", ag.appliedSeq)
	}
	ag.delivered(11)
	ag.delivered(12)
	if ag.appliedSeq != 12 {
		t.Fatalf("appliedSeq %d after 11 and 12, want 12", ag.appliedSeq)
	}
	ag.delivered(12) // a record handled twice moves nothing
	if ag.appliedSeq != 12 {
		t.Fatalf("appliedSeq %d, want 12", ag.appliedSeq)
	}
}
