//go:build integration

package integration

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core/api/client"
	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
)

// fleetLab is a set of nodes on one switch.
type fleetLab struct {
	t     *testing.T
	dir   string
	tree  string
	sw    *holder
	nodes []*fleetNode
}

// newFleetLab prepares the sandbox (driver account, built tree) and the
// switch namespace.
func newFleetLab(t *testing.T) *fleetLab {
	t.Helper()
	sandbox.Require(t)
	ensureDriver(t)
	for _, tool := range []string{"nsenter", "unshare", "ip", "losetup", "mkfs.btrfs", "sshd", "ssh"} {
		if _, err := exec.LookPath(tool); err != nil && !strings.HasSuffix(tool, "sshd") {
			t.Skipf("%s is needed for the fleet lab: %v", tool, err)
		}
	}
	dir, err := os.MkdirTemp("", "hc-fleet-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	lab := &fleetLab{t: t, dir: dir, tree: buildTree(t, "")}
	lab.sw = startHolder(t, "switch")
	return lab
}

// fleetNode is one node of the lab: its namespaces, its machine, its host.
type fleetNode struct {
	lab  *fleetLab
	t    *testing.T
	name string
	addr string // its 400::/7 address
	dir  string
	ns   *holder
	env  []string // the host's environment
	sock string
	cmd  *exec.Cmd
	done chan struct{}
	log  *logBuffer
}

// addNode makes node number i: its /etc (a copy of the sandbox's), a btrfs
// /home with quotas on its own loop device, its namespaces, its link to
// the switch and its address.
func (lab *fleetLab) addNode(name string, i int) *fleetNode { return lab.addNodeSized(name, i, "300M") }

// addNodeSized is addNode with a /home of size (fallocate's notation).
func (lab *fleetLab) addNodeSized(name string, i int, size string) *fleetNode {
	t := lab.t
	t.Helper()
	n := &fleetNode{lab: lab, t: t, name: name, addr: "411::" + strconv.Itoa(i), dir: filepath.Join(lab.dir, name)}
	mustRun(t, "mkdir", "-p", filepath.Join(n.dir, "etc"))
	mustRun(t, "cp", "-a", "/etc/.", filepath.Join(n.dir, "etc")+"/")
	img := filepath.Join(n.dir, "home.img")
	mustRun(t, "fallocate", "-l", size, img)
	mustRun(t, "mkfs.btrfs", "-q", "-f", img)
	dev := strings.TrimSpace(mustRun(t, "losetup", "--find", "--show", img))
	t.Cleanup(func() { _ = exec.Command("losetup", "-d", dev).Run() })
	n.ns = startHolder(t, "node", "HC_FLEET_NS_ETC="+filepath.Join(n.dir, "etc"), "HC_FLEET_NS_DEV="+dev)
	veth := "v" + strconv.Itoa(i)
	lab.sw.must(t, "ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", n.ns.pid())
	lab.sw.must(t, "ip", "link", "set", veth, "master", "br0", "up")
	n.ns.must(t, "ip", "link", "set", "eth0", "up")
	n.ns.must(t, "ip", "-6", "addr", "add", n.addr+"/7", "dev", "eth0", "nodad")
	n.ns.must(t, "btrfs", "quota", "enable", "/home")
	hhome := filepath.Join(n.dir, "host")
	n.sock = filepath.Join(hhome, "s", "hero_codescalers", "rpc.sock")
	// The state's key is the node's own secret, not the fleet's: joining
	// a fleet re-keys nothing.
	n.env = append(os.Environ(), "HOME="+hhome, "PATH_SOCKET="+filepath.Join(hhome, "s"),
		"HERO_CODESCALERS_DATA_DIR="+filepath.Join(hhome, "db"), "SECRET_CODESCALERS=state key of "+name)
	lab.nodes = append(lab.nodes, n)
	return n
}

// start runs the node's host inside its namespaces and waits for health.
func (n *fleetNode) start() {
	n.t.Helper()
	n.log = &logBuffer{}
	n.cmd = n.ns.in(filepath.Join(n.lab.tree, "hero_codescalers"), "serve", "--home-root", "/home",
		"--plugin", "sessions=procfs", "--node-name", n.name)
	n.cmd.Env = n.env
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	if err := n.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	n.done = make(chan struct{})
	cmd, done := n.cmd, n.done
	go func() { cmd.Wait(); close(done) }()
	n.t.Cleanup(n.kill)
	c := client.New(n.sock)
	defer c.Close()
	waitFor(n.t, n.name+"'s host health", 30*time.Second, func() bool {
		select {
		case <-done:
			n.t.Fatalf("%s's host exited:\n%s", n.name, n.log)
		default:
		}
		hr, err := c.GetHealth(context.Background())
		return err == nil && hr.Status == "ok"
	})
}

// kill ends the node's host with SIGKILL (a crash) if it runs.
func (n *fleetNode) kill() {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	select {
	case <-n.done:
		return
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.done
}

// cli runs the CLI against the node's host with the fleet's secret (what
// fleet-init and fleet-join read) and returns stdout, stderr, exit code.
func (n *fleetNode) cli(secret string, args ...string) (string, string, int) {
	n.t.Helper()
	cmd := exec.Command(filepath.Join(n.lab.tree, "hero_codescalers"), append([]string{"--server", n.sock}, args...)...)
	cmd.Env = append(append([]string{}, n.env...), "SECRET_CODESCALERS="+secret)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	case err != nil:
		n.t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

// mustCLI runs the CLI and fails the test unless it exits 0.
func (n *fleetNode) mustCLI(args ...string) string {
	n.t.Helper()
	out, errs, code := n.cli(fleetSecret, args...)
	if code != 0 {
		n.t.Fatalf("%s: hero_codescalers %s: exit %d\n%s%s\nhost log:\n%s", n.name, strings.Join(args, " "), code, out, errs, n.log)
	}
	return out
}

// machine is what a user's life must leave as it found it on the node.
func (n *fleetNode) machine() map[string]string {
	n.t.Helper()
	st := map[string]string{}
	for _, f := range []string{"passwd", "shadow", "group", "gshadow"} {
		b, err := os.ReadFile(filepath.Join(n.dir, "etc", f))
		if err != nil {
			n.t.Fatal(err)
		}
		st[f] = string(b)
	}
	st["subvolumes"] = n.ns.must(n.t, "btrfs", "subvolume", "list", "/home")
	out, _ := n.ns.in("btrfs", "qgroup", "show", "--raw", "/home").CombinedOutput()
	st["qgroups"] = string(out)
	return st
}

// startSSHD runs the node's own sshd on its overlay address, port 22.
func (n *fleetNode) startSSHD() {
	t := n.t
	t.Helper()
	key := filepath.Join(n.dir, "host_ed25519")
	mustRun(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key)
	cfg := []string{
		"ListenAddress " + n.addr, "HostKey " + key, "PidFile none", "UsePAM no", "StrictModes yes",
		"PubkeyAuthentication yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
		"AuthorizedKeysFile .ssh/authorized_keys", "PermitRootLogin no", "UseDNS no", "PrintMotd no",
		"PrintLastLog no", "LogLevel VERBOSE", "",
	}
	cfgPath := filepath.Join(n.dir, "sshd_config")
	if err := os.WriteFile(cfgPath, []byte(strings.Join(cfg, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	cmd := n.ns.in("/usr/sbin/sshd", "-D", "-e", "-f", cfgPath, "-p", "22")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitFor(t, n.name+"'s sshd", 10*time.Second, func() bool { return strings.Contains(logs.String(), "Server listening") })
}

// ssh logs in as user from the network namespace of from, to n's address,
// and returns what cmd printed.
func (n *fleetNode) ssh(from *fleetNode, key, user, cmd string) (string, error) {
	args := append(sshArgs(key, "22"), user+"@"+n.addr, cmd)
	out, err := from.ns.inNet("ssh", args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// node returns the lab's node of that name.
func (lab *fleetLab) node(name string) *fleetNode {
	for _, n := range lab.nodes {
		if n.name == name {
			return n
		}
	}
	lab.t.Fatalf("no node %q in the lab", name)
	return nil
}
