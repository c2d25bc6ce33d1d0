package files

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// procDir is where processes are looked for; tests may point it elsewhere.
var procDir = "/proc"

// checkNotBusy refuses to delete a user that still runs a process, as
// userdel does (exit 8): the host ends the user's sessions first. Any of
// the real, effective, saved or filesystem uids counts.
func checkNotBusy(name string, uid uint32) error {
	entries, err := os.ReadDir(procDir)
	if err != nil {
		return nil // no /proc: nothing can be checked, as userdel then does
	}
	want := strconv.FormatUint(uint64(uid), 10)
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		for _, u := range uidsOf(filepath.Join(procDir, e.Name(), "status")) {
			if u == want {
				return sdkerr.Errorf(sdkerr.FailedPrecondition, "user %q is currently used by process %s", name, e.Name())
			}
		}
	}
	return nil
}

// uidsOf returns the four uids of a /proc/<pid>/status, nil when the
// process is gone.
func uidsOf(status string) []string {
	f, err := os.Open(status)
	if err != nil {
		return nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Uid:"); ok {
			return strings.Fields(rest)
		}
	}
	return nil
}
