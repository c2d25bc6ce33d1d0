//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions/uidkill"
)

// strayScript runs as the user, outside any login session: it ignores
// SIGHUP and SIGTERM, keeps a plain daemon (sleep 1000), and runs a chain
// in which every process forks its successor and exits, so its pid
// changes every few milliseconds — what one pass over /proc cannot catch.
const strayScript = `trap "" HUP TERM
sleep 1000 &
export S='sleep 0.005; sh -c "$S" & exit 0'
sh -c "$S" &
wait`

// startStray starts strayScript as uid:gid the way an admin or a cron job
// would, with setsid and setpriv, detached from the test (its parent exits
// at once).
func startStray(t *testing.T, uid, gid int) {
	t.Helper()
	cmd := exec.Command("setsid", "-f", "setpriv", "--reuid", strconv.Itoa(uid), "--regid", strconv.Itoa(gid),
		"--clear-groups", "--", "sh", "-c", strayScript)
	cmd.Dir = "/" // no output captured: the stray would hold the pipes open
	if err := cmd.Run(); err != nil {
		t.Fatalf("start the stray: %v", err)
	}
	// One pass over /proc can lose to the chain (that is the bug): clean
	// up with the race-free kill, whatever the code under test did.
	t.Cleanup(func() { _, _ = uidkill.Killer{}.End(context.Background(), uid, 0) })
	waitFor(t, "the stray's processes", 10*time.Second, func() bool { return len(uidProcs(uid)) >= 3 })
}

// strayUIDArg is a uid for a test user whose every process gets killed:
// random and high in the managed range, so it is nobody else's — other
// sandboxes on this machine (other tests running at the same time) share
// the pid namespace, and their users' uids start at UID_MIN too.
func strayUIDArg() string { return strconv.Itoa(30000 + rand.IntN(29000)) }

// uidProcs lists the processes (zombies included) whose real, effective or
// saved uid is uid: what userdel counts.
func uidProcs(uid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
				f := strings.Fields(rest)
				for _, u := range f[:min(3, len(f))] {
					if u == strconv.Itoa(uid) {
						out = append(out, pid)
						break
					}
				}
			}
		}
	}
	return out
}

// TestDeleteEndsStrayProcesses is issue 10 §6's proof: a user with
// processes outside any login session — a daemon, and a chain that forks
// its successor and exits, all ignoring SIGTERM — is deleted: every
// process of the uid is ended before the home and the account go, and
// the machine ends as it began. A lock ends them too.
func TestDeleteEndsStrayProcesses(t *testing.T) {
	h, before := startNode(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("setpriv (util-linux) is not installed")
	}
	var u core.User
	if err := json.Unmarshal([]byte(h.mustCLI("--json", "user-create", "eve", "--uid", strayUIDArg())), &u); err != nil {
		t.Fatal(err)
	}
	startStray(t, u.UID, u.GID)
	begin := time.Now()
	h.mustCLI("user-delete", "eve")
	t.Logf("user-delete with a forking stray took %v", time.Since(begin))
	if left := uidProcs(u.UID); len(left) != 0 {
		t.Errorf("processes of uid %d survived the delete: %v", u.UID, left)
	}
	if _, err := os.Lstat("/home/eve"); !os.IsNotExist(err) {
		t.Errorf("/home/eve survived: %v", err)
	}
	if _, _, code := h.cli("user-get", "eve"); code == 0 {
		t.Error("eve is still in the state")
	}
	sameMachine(t, before, machineState(t))

	if err := json.Unmarshal([]byte(h.mustCLI("--json", "user-create", "fay", "--uid", strayUIDArg())), &u); err != nil {
		t.Fatal(err)
	}
	startStray(t, u.UID, u.GID)
	h.mustCLI("user-lock", "fay")
	if left := uidProcs(u.UID); len(left) != 0 {
		t.Errorf("processes of uid %d survived the lock: %v", u.UID, left)
	}
	h.mustCLI("user-delete", "fay")
	sameMachine(t, before, machineState(t))
}
