//go:build integration

package integration

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/host/setup"
	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
)

// escapeTargets are the built-in plugins the driver attacks, by concern.
// Another concern's plugins are added here with their cases in
// integration/internal/attacker.
var escapeTargets = []struct{ plugin, concern string }{
	{"btrfs", "volumes"}, {"dir", "volumes"},
	{"posixacl", "acl"}, {"mode", "acl"},
	{"openssh", "sshkeys"},
	{"shadow", "accounts"}, {"files", "accounts"},
	{"procfs", "sessions"},
}

// TestDriverCannotEscape is the proof that the privilege split holds: the
// driver account, set up as `hero_codescalers setup driver` does (digest-
// pinned sudoers rules), starts each built-in volumes, acl, sshkeys,
// accounts and sessions plugin itself through `sudo -n` exactly as the host does, speaks
// go-plugin to it, and tries the escapes a driver turned hostile would
// (integration/internal/attacker): writing /etc/sudoers.d/zz-pwn, chmod
// and chown outside the home root, writing through a ~/.ssh -> /etc link,
// setuid, root-owned, unmanaged-owned and device files in a home, ACL
// entries on /etc/shadow or for unmanaged accounts, keys into /root/.ssh,
// accounts with uid 0, a system uid or in sudo, homes over /root or /etc,
// deleting, locking or regrouping root, the driver or an unmanaged
// account, and killing the processes of accounts not managed.
// Every call must be refused, the sandbox's /etc and /root must be as
// they were byte for byte, and `sudo -n id` must still ask the driver for
// a password. On the main this began from, the first call wrote the
// sudoers drop-in and the driver was root.
func TestDriverCannotEscape(t *testing.T) {
	sandbox.Require(t)
	dir, attacker := escapeBinaries(t)
	driver := escapeDriver(t, dir)
	escapePolicy(t)
	scene := escapeScene(t, driver.name)
	privateRoot(t)
	bystander := escapeBystander(t, scene)
	etcBefore, rootBefore := treeState(t, "/etc"), treeState(t, "/root")
	for _, target := range escapeTargets {
		t.Run(target.plugin, func(t *testing.T) {
			escapeDecoy(t, scene) // as it was, should a plugin before have removed it
			for _, r := range attack(t, driver, attacker, filepath.Join(dir, "plugins", target.plugin), target.concern, scene) {
				if r.Code == "" {
					t.Errorf("ACCEPTED: %s", r.Case)
				} else {
					t.Logf("refused  %-60s %s", r.Case, r.Code)
				}
			}
		})
	}
	if d := diffTrees(etcBefore, treeState(t, "/etc")); d != "" {
		t.Errorf("the sandbox's /etc changed: %s", d)
	}
	if d := diffTrees(rootBefore, treeState(t, "/root")); d != "" {
		t.Errorf("/root changed: %s", d)
	}
	select {
	case <-bystander:
		t.Errorf("the unmanaged account's process was ended by the sessions attacks")
	default:
	}
	if out, err := driver.run("sudo", "-n", "id", "-u"); err == nil {
		t.Errorf("sudo -n id as the driver succeeded: %s", out)
	}
}

// escapeDriverAccount is the account the attacks run as: the policy's
// driver, set up by setup.Driver.
type escapeDriverAccount struct {
	name     string
	uid, gid uint32
	home     string
}

// run runs argv as the driver (no supplementary groups, a minimal
// environment), with stdin when given.
func (d escapeDriverAccount) runIn(stdin []byte, argv ...string) ([]byte, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: d.uid, Gid: d.gid, Groups: []uint32{}}}
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME=" + d.home}
	cmd.Dir = "/"
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, &exec.ExitError{ProcessState: cmd.ProcessState, Stderr: stderr.Bytes()}
	}
	return out, nil
}

func (d escapeDriverAccount) run(argv ...string) ([]byte, error) { return d.runIn(nil, argv...) }

// escapeBinaries builds the attacked plugins (with their manifests) and
// the attacker into a directory the driver can read.
func escapeBinaries(t *testing.T) (dir, attacker string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "hc-escape-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	plugins := filepath.Join(dir, "plugins")
	for _, d := range []string{dir, plugins} {
		os.MkdirAll(d, 0o755)
		os.Chmod(d, 0o755)
	}
	for _, target := range escapeTargets {
		// The shared build (buildPlugin) sits in a directory only root
		// reads; the driver's sudo rule needs a path it can name.
		data, err := os.ReadFile(buildPlugin(t, target.plugin))
		if err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(plugins, target.plugin)
		if err := os.WriteFile(bin, data, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := writeManifest(bin); err != nil {
			t.Fatal(err)
		}
	}
	attacker = filepath.Join(dir, "attacker")
	if err := goBuild(attacker, "integration/internal/attacker"); err != nil {
		t.Fatal(err)
	}
	return dir, attacker
}

// escapeDriver runs setup.Driver for the policy's driver account over the
// plugins dir, and undoes it at cleanup.
func escapeDriver(t *testing.T, dir string) escapeDriverAccount {
	t.Helper()
	var out bytes.Buffer
	rep, err := setup.Driver(setup.Options{User: policy.DefaultDriver, Home: filepath.Join(dir, "home"),
		Dirs: []string{filepath.Join(dir, "plugins")}, Out: &out})
	if rep.AccountCreated {
		t.Cleanup(func() { _ = exec.Command("userdel", "--", policy.DefaultDriver).Run() })
	}
	if err != nil {
		t.Fatalf("setup: %v\n%s", err, out.String())
	}
	t.Cleanup(func() { os.Remove(rep.SudoersPath) })
	if len(rep.Plugins) != len(escapeTargets) {
		t.Fatalf("setup pinned %v\n%s", rep.Plugins, out.String())
	}
	u, err := user.Lookup(policy.DefaultDriver)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return escapeDriverAccount{name: u.Username, uid: uint32(uid), gid: uint32(gid), home: u.HomeDir}
}

// escapePolicy writes the policy the plugins read (the built-in defaults,
// rendered), root:root 0644, until setup driver writes it itself; a policy
// already there is restored at cleanup.
func escapePolicy(t *testing.T) {
	t.Helper()
	old, err := os.ReadFile(policy.Path)
	if err == nil {
		t.Cleanup(func() { os.WriteFile(policy.Path, old, 0o644); os.Chmod(policy.Path, 0o644) })
		return // one is there already: the plugins read it
	}
	if err := os.MkdirAll(filepath.Dir(policy.Path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(policy.Path, policy.Defaults("/etc").Render(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(policy.Path) })
}

// privateRoot puts a tmpfs over /root for the test, so attacks on
// /root/.ssh can never reach the machine's own /root: the integration
// sandbox replaces /etc and /home only.
func privateRoot(t *testing.T) {
	t.Helper()
	mustRun(t, "mount", "-t", "tmpfs", "-o", "mode=0700", "tmpfs", "/root")
	t.Cleanup(func() { _ = exec.Command("umount", "/root").Run() })
}

// attack runs the attacker as the driver against one plugin and returns
// every case's result.
func attack(t *testing.T, d escapeDriverAccount, attacker, plugin, concern string, scene escapeSceneT) []attackResult {
	t.Helper()
	in, _ := json.Marshal(scene)
	out, err := d.runIn(in, attacker, "-plugin", plugin, "-concern", concern)
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("attacker: %v\n%s\n%s", err, out, stderr)
	}
	var results []attackResult
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var r attackResult
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("attacker output: %v\n%s", err, out)
		}
		results = append(results, r)
	}
	if len(results) == 0 {
		t.Fatalf("the attacker ran no case:\n%s", out)
	}
	return results
}

// attackResult is the attacker's line per case (attacker.Result).
type attackResult struct {
	Concern, Case, Code, Error string
}

// escapeSceneT is the attacker's Scene, as the test fills it.
type escapeSceneT struct {
	HomeRoot     string `json:"home_root"`
	User         string `json:"user"`
	Marker       string `json:"marker"`
	Home         string `json:"home"`
	UID          uint32 `json:"uid"`
	GID          uint32 `json:"gid"`
	File         string `json:"file"`
	HardLink     string `json:"hard_link"`
	RootFile     string `json:"root_file"`
	Linked       string `json:"linked"`
	LinkedUID    uint32 `json:"linked_uid"`
	LinkedGID    uint32 `json:"linked_gid"`
	Unmanaged    string `json:"unmanaged"`
	UnmanagedUID uint32 `json:"unmanaged_uid"`
	UnmanagedGID uint32 `json:"unmanaged_gid"`
	Driver       string `json:"driver"`
	Decoy        string `json:"decoy"`
	DecoyFile    string `json:"decoy_file"`
}

// escapeScene prepares what the attacks aim at: a managed user's home
// with a file of theirs and a hard link to a root-only file, another
// managed user's home whose ~/.ssh that user pointed at /etc, an
// unmanaged account, and a decoy directory in /etc.
func escapeScene(t *testing.T, driver string) escapeSceneT {
	t.Helper()
	s := escapeSceneT{HomeRoot: sandbox.HomeRoot, Driver: driver, User: "hcatkvictim", Marker: markerGroup}
	s.Home, s.UID, s.GID = escapeHome(t, s.User)
	s.Linked, s.LinkedUID, s.LinkedGID = escapeHome(t, "hcatklinked")
	link := filepath.Join(s.Linked, ".ssh")
	if err := os.Symlink("/etc", link); err != nil {
		t.Fatal(err)
	}
	os.Lchown(link, int(s.LinkedUID), int(s.LinkedGID))
	s.File = filepath.Join(s.Home, "file")
	os.WriteFile(s.File, []byte("mine\n"), 0o644)
	os.Chown(s.File, int(s.UID), int(s.GID))
	s.RootFile = filepath.Join(sandbox.HomeRoot, "hcatk-rootfile")
	os.WriteFile(s.RootFile, []byte("root only\n"), 0o600)
	t.Cleanup(func() { os.Remove(s.RootFile) })
	s.HardLink = filepath.Join(s.Home, "hlink")
	if err := os.Link(s.RootFile, s.HardLink); err != nil {
		t.Fatal(err)
	}
	s.Unmanaged = "hcatkother"
	mustRun(t, "useradd", "--no-create-home", "--shell", "/bin/sh", "--", s.Unmanaged)
	t.Cleanup(func() { _ = exec.Command("userdel", "--", s.Unmanaged).Run() })
	u, _ := user.Lookup(s.Unmanaged)
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	s.UnmanagedUID, s.UnmanagedGID = uint32(uid), uint32(gid)
	s.Decoy = "/etc/hc-escape-decoy"
	s.DecoyFile = filepath.Join(s.Decoy, "file")
	escapeDecoy(t, s)
	t.Cleanup(func() { os.RemoveAll(s.Decoy); escapeLeftovers() })
	return s
}

// escapeBystander runs a process as the scene's unmanaged account, which
// the sessions attacks try to end; the channel says when it ended.
func escapeBystander(t *testing.T, s escapeSceneT) <-chan struct{} {
	t.Helper()
	cmd := exec.Command("sleep", "3600")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: s.UnmanagedUID, Gid: s.UnmanagedGID, Groups: []uint32{}}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ended := make(chan struct{})
	go func() { cmd.Wait(); close(ended) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-ended })
	return ended
}

// escapeDecoy makes the decoy directory and its root-only file.
func escapeDecoy(t *testing.T, s escapeSceneT) {
	t.Helper()
	if err := os.MkdirAll(s.Decoy, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(s.DecoyFile); err != nil {
		if err := os.WriteFile(s.DecoyFile, []byte("root's\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// escapeHome makes a managed account with a home of its own (0755).
func escapeHome(t *testing.T, name string) (string, uint32, uint32) {
	t.Helper()
	home := filepath.Join(sandbox.HomeRoot, name)
	managedUser(t, name, "--home-dir", home)
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	u, _ := user.Lookup(name)
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	os.Chown(home, uid, gid)
	return home, uint32(uid), uint32(gid)
}

// escapeLeftovers removes what an accepted attack leaves in the sandbox's
// /etc (on a plugin without the fence), so the tests after this one run
// on the sandbox as it was.
func escapeLeftovers() {
	for _, p := range []string{"/etc/sudoers.d/zz-pwn", "/etc/ssh/id_ed25519", "/etc/ssh/id_ed25519.pub", "/etc/authorized_keys"} {
		os.Remove(p)
	}
	os.RemoveAll("/etc/cron.d/cron.d")
	_ = exec.Command("setfacl", "-b", "--", "/etc/shadow", "/etc/sudoers.d").Run()
}

// treeEntry is what treeState records of one path.
type treeEntry struct {
	Mode, UID, GID uint32
	Size           int64
	Data, ACL      string
}

// treeState records every path below root, not following links: type
// and mode, owner, size, the content of small files and the ACLs.
func treeState(t *testing.T, root string) map[string]treeEntry {
	t.Helper()
	out := map[string]treeEntry{}
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return nil // vanished meanwhile; the other side's walk tells
		}
		st := fi.Sys().(*syscall.Stat_t)
		e := treeEntry{Mode: st.Mode, UID: st.Uid, GID: st.Gid, Size: st.Size}
		if fi.Mode().IsRegular() && st.Size <= 1<<20 {
			data, _ := os.ReadFile(p)
			e.Data = string(data)
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			for _, name := range []string{"system.posix_acl_access", "system.posix_acl_default"} {
				buf := make([]byte, 4096)
				if n, err := unix.Lgetxattr(p, name, buf); err == nil {
					e.ACL += name + "=" + string(buf[:n]) + ";"
				}
			}
		}
		out[p] = e
		return nil
	})
	return out
}

func diffTrees(before, after map[string]treeEntry) string {
	var diffs []string
	for p, a := range after {
		if b, ok := before[p]; !ok {
			diffs = append(diffs, p+" appeared")
		} else if a != b {
			diffs = append(diffs, p+" changed")
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			diffs = append(diffs, p+" vanished")
		}
	}
	slices.Sort(diffs)
	return strings.Join(diffs, ", ")
}
