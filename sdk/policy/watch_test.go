package policy

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWatchRereadsOnlyOnChange: an unchanged machine is not parsed again;
// a passwd replaced the way the shadow tools do (a new file renamed over
// the old) is.
func TestWatchRereadsOnlyOnChange(t *testing.T) {
	etc := etcWith(t, testPasswd, testGroup)
	w := NewWatch(Defaults(etc), etc)
	m1, err := w.Machine()
	if err != nil {
		t.Fatal(err)
	}
	if m2, _ := w.Machine(); m2 != m1 {
		t.Error("an unchanged machine was read again")
	}
	if !m1.UserManaged("bob") || m1.UserManaged("carol") {
		t.Fatal("wrong view to begin with")
	}
	tmp := filepath.Join(etc, "passwd.new")
	writeFile(t, tmp, testPasswd+"carol:x:1003:998::/home/carol:/bin/sh\n", 0o644)
	if err := os.Rename(tmp, filepath.Join(etc, "passwd")); err != nil {
		t.Fatal(err)
	}
	m3, err := w.Machine()
	if err != nil {
		t.Fatal(err)
	}
	if !m3.UserManaged("carol") {
		t.Error("carol, added with the marker group as primary, is not seen")
	}
	if uid, ok := m3.UserID("carol"); !ok || uid != 1003 {
		t.Errorf("UID(carol) = %d %v", uid, ok)
	}
	if got := m3.UsersOf(1001); len(got) != 2 {
		t.Errorf("UsersOf(1001) = %v, want alice and twin", got)
	}
	os.Remove(filepath.Join(etc, "group"))
	if _, err := w.Machine(); err == nil {
		t.Error("a machine without a group file was judged")
	}
}
