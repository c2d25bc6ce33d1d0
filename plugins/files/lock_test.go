package files

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// TestLckpwdfHolderBlocks takes /etc/.pwd.lock the way glibc's lckpwdf
// does (a classic POSIX fcntl lock) in another process: the plugin's open
// file description lock must conflict with it and give up with
// Unavailable, then succeed once the holder is gone.
func TestLckpwdfHolderBlocks(t *testing.T) {
	f := newTest(t)
	f.LockTimeout = 100 * time.Millisecond
	holder := exec.Command(os.Args[0], "-test.run=^TestHelperLckpwdf$")
	holder.Env = append(os.Environ(), "HC_LCKPWDF_HELPER="+filepath.Join(f.Etc, pwdLock))
	stdin, _ := holder.StdinPipe()
	stdout, _ := holder.StdoutPipe()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "locked\n" {
		t.Fatalf("helper: %q %v", line, err)
	}
	start := time.Now()
	_, err := f.CreateGroup(context.Background(), "g1", 0)
	if !sdkerr.Is(err, sdkerr.Unavailable) || time.Since(start) < f.LockTimeout {
		t.Fatalf("with lckpwdf held: %v after %v", err, time.Since(start))
	}
	stdin.Close() // the helper exits, and its lock goes with it
	holder.Wait()
	if _, err := f.CreateGroup(context.Background(), "g1", 0); err != nil {
		t.Fatalf("after release: %v", err)
	}
}

// TestHelperLckpwdf is the lock holder of TestLckpwdfHolderBlocks: it
// locks the file as lckpwdf does and holds it until stdin closes.
func TestHelperLckpwdf(t *testing.T) {
	path := os.Getenv("HC_LCKPWDF_HELPER")
	if path == "" {
		t.Skip("helper process only")
	}
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK}
	if err := unix.FcntlFlock(uintptr(fd), unix.F_SETLKW, &lk); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("locked\n")
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// TestLinkLocks checks the <file>.lock protocol: a lock of a live process
// holds the plugin off, a stale one (dead pid) is removed as shadow-utils
// removes it.
func TestLinkLocks(t *testing.T) {
	f := newTest(t)
	f.LockTimeout = 100 * time.Millisecond
	lock := filepath.Join(f.Etc, "group.lock")

	sleeper := exec.Command("sleep", "30")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleeper.Process.Kill(); sleeper.Wait() })
	os.WriteFile(lock, []byte(strconv.Itoa(sleeper.Process.Pid)+"\x00"), 0o600)
	if _, err := f.CreateGroup(context.Background(), "g1", 0); !sdkerr.Is(err, sdkerr.Unavailable) {
		t.Fatalf("group.lock held by a live process: %v", err)
	}
	if _, err := os.Stat(lock); err != nil {
		t.Fatal("a live process's lock was removed")
	}
	if _, err := os.Stat(filepath.Join(f.Etc, "passwd.lock")); !os.IsNotExist(err) {
		t.Fatal("passwd.lock not released after a failed acquire")
	}

	sleeper.Process.Kill()
	sleeper.Wait()
	if _, err := f.CreateGroup(context.Background(), "g1", 0); err != nil {
		t.Fatalf("stale group.lock: %v", err)
	}
	assertNoLocks(t, f)
}

func TestContextCancelWhileWaiting(t *testing.T) {
	f := newTest(t)
	os.WriteFile(filepath.Join(f.Etc, "passwd.lock"), []byte("1\x00"), 0o600) // init never dies
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := f.CreateUser(ctx, accounts.UserSpec{Name: "a", Home: "/home/a"})
	if !sdkerr.Is(err, sdkerr.Unavailable) || time.Since(start) > time.Second {
		t.Fatalf("%v after %v", err, time.Since(start))
	}
}
