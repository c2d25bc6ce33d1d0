//go:build integration

package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
)

// fleetSecret is the fleet's passphrase in the lab; each host's own state
// is keyed by another secret (addNode).
const fleetSecret = "the lab fleet's passphrase"

// forgeToken is alice's forge token: it must never be readable outside
// her hero_cfg.toml.
const forgeToken = "forge-fleet-t0ken-7f3a9c"

// TestFleet is issue 11's proof on real hosts: three nodes, each in its
// own network namespace with a 400::/7 address, its own /etc and btrfs
// /home and its own sshd, make a fleet; a user created with --fleet lands
// on all three with one uid and logs in on each; nodes are killed and come
// back; a leaf node and a node with the wrong secret join; and everything
// a user's life made is gone at the end.
func TestFleet(t *testing.T) {
	began := time.Now()
	step := func(what string) { t.Logf("%6.1fs %s", time.Since(began).Seconds(), what) }
	lab := newFleetLab(t)
	step("tree built")
	n1, n2, n3 := lab.addNode("n1", 1), lab.addNode("n2", 2), lab.addNode("n3", 3)
	step("nodes made")
	before := map[string]map[string]string{}
	for _, n := range lab.nodes {
		n.start()
		n.startSSHD()
		before[n.name] = n.machine()
	}
	for _, n := range lab.nodes {
		noFleetPorts(t, n)
	}
	step("hosts and sshd up, no NATS before the fleet")
	var info core.FleetInfo
	if err := json.Unmarshal([]byte(n1.mustCLI("--json", "fleet-init")), &info); err != nil || info.JoinCommand != "hero_codescalers fleet-join [411::1]:5300" {
		t.Fatalf("fleet-init: %+v %v", info, err)
	}
	for _, n := range []*fleetNode{n2, n3} {
		if out := n.mustCLI("fleet-join", "[411::1]:5300"); !strings.Contains(out, "(replica)") {
			t.Fatalf("%s joined as: %s", n.name, out)
		}
	}
	step("fleet made")
	priv, pub := clientKey(t)
	tok := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tok, []byte(forgeToken+"\n"), 0o600)
	var res core.FleetResult
	out := n1.mustCLI("--json", "user-create", "alice", "--fleet", "--ssh-key-file", pub, "--forge-token-file", tok, "--quota", "200M")
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Failed != 0 || len(res.Rows) != 3 {
		t.Fatalf("user-create --fleet: %v %s", err, out)
	}
	step("alice created")
	uid := ""
	for _, n := range []*fleetNode{n1, n2, n3} {
		u := n.ns.must(t, "id", "-u", "alice")
		if uid != "" && u != uid {
			t.Errorf("%s: alice has uid %s, another node %s", n.name, u, uid)
		}
		uid = u
		fleetLayout(t, n, strings.TrimSpace(u), res.PublicKey)
		if who, err := n.ssh(n1, priv, "alice", "id -un"); err != nil || who != "alice" {
			t.Errorf("ssh alice@%s: %v %s", n.addr, err, who)
		}
	}
	step("alice checked on three nodes")
	gid := fleetGroup(t, n1, []*fleetNode{n1, n2, n3})
	step("a fleet group with one gid and its shared volume on three nodes")

	js, seal := storeClient(t, n2)
	anonymousRefused(t, n2)
	rawStreamHasNoSecret(t, js)
	writeUnsealed(t, js, "mallory")
	for _, n := range []*fleetNode{n1, n2, n3} {
		waitFor(t, n.name+" refuses the unsealed value", 15*time.Second, func() bool {
			st, ok := status(js, seal, n.name, "user/mallory")
			return ok && st.Outcome == core.FleetError && strings.Contains(st.Error, "refused")
		})
		if !strings.Contains(n.log.String(), "refused a value of the store") {
			t.Errorf("%s's log does not report the refused value", n.name)
		}
		if _, err := n.ns.in("id", "-u", "mallory").CombinedOutput(); err == nil {
			t.Errorf("%s created mallory from an unsealed value", n.name)
		}
	}
	// The test takes its tampered value away, as it put it there (with
	// store access): the nodes' drift is then back to none.
	deleteRaw(t, js, "user.mallory")
	step("security checks")

	bobConflict(t, n1, n2, n3)
	step("bob's conflict")

	_, key2 := clientKey(t)
	n3.kill()
	for _, args := range [][]string{
		{"user-key-add", "alice", "--fleet", "--file", key2, "--wait", "10s"},
		{"user-quota", "alice", "300M", "--fleet", "--wait", "10s"},
	} {
		out, errs, code := n1.cli(fleetSecret, args...)
		if code != 8 || !strings.Contains(errs, "n3 (no answer within 10s)") || strings.Count(out, " ok ") != 2 {
			t.Fatalf("%s with n3 down: exit %d\n%s%s", args[0], code, out, errs)
		}
	}
	restarted := time.Now()
	n3.start()
	waitFor(t, "n3 converges by itself", 15*time.Second-time.Since(restarted), func() bool {
		keys, _ := n3.ns.in("cat", "/home/alice/.ssh/authorized_keys").CombinedOutput()
		q, _ := n3.ns.in("btrfs", "qgroup", "show", "-re", "--raw", "/home/alice").CombinedOutput()
		return strings.Count(string(keys), "ssh-ed25519") == 2 && strings.Contains(string(q), "314572800")
	})
	step("n3 killed and back, converged in " + time.Since(restarted).Round(time.Second).String())

	killDuringCreate(t, n2, n1, "carol")
	step("n1 killed during a create, back and converged")
	leader := lab.node(streamLeader(t, js))
	via := n1
	if leader == n1 {
		via = n2
	}
	killDuringCreate(t, via, leader, "dave")
	step("the stream leader " + leader.name + " killed during a create, back and converged")

	n4 := lab.addNode("n4", 4)
	n4.start()
	before[n4.name] = n4.machine()
	if out := n4.mustCLI("fleet-join", "[411::2]:5300", "--label", "zone=eu"); !strings.Contains(out, "(leaf)") {
		t.Fatalf("n4 joined as: %s", out)
	}
	waitFor(t, "the leaf node converges", 20*time.Second, func() bool {
		got, err := n4.ns.in("id", "-u", "alice").CombinedOutput()
		_, errc := n4.ns.in("id", "-u", "carol").CombinedOutput()
		g, errg := n4.ns.in("getent", "group", "devs").CombinedOutput()
		return err == nil && errc == nil && strings.TrimSpace(string(got)) == strings.TrimSpace(uid) &&
			errg == nil && strings.HasPrefix(string(g), "devs:x:"+gid+":")
	})
	js1, _ := storeClient(t, n1) // js's node may have been killed since
	if peers := streamPeers(t, js1); !slices.Equal(peers, []string{"n1", "n2", "n3"}) {
		t.Errorf("the store's replicas are on %v, want n1, n2, n3 (n4 is a leaf node)", peers)
	}
	step("n4 joined as a leaf node and converged")

	wrongSecret(t, lab, n1)
	step("n5 with the wrong secret refused")

	if out := n2.mustCLI("group-delete", "devs", "--fleet"); strings.Count(out, " removed ") != 4 {
		t.Errorf("group-delete devs --fleet:\n%s", out)
	}
	for _, name := range []string{"alice", "carol", "dave"} {
		out := n2.mustCLI("user-delete", name, "--fleet")
		if strings.Count(out, " removed ") != 4 {
			t.Errorf("user-delete %s --fleet:\n%s", name, out)
		}
	}
	for _, n := range []*fleetNode{n1, n2, n3, n4} {
		sameNodeMachine(t, n, before[n.name], n.machine())
		noTokenLeaked(t, n)
	}
	step("deleted everywhere, every machine as it began")
	fleetTab(t, n2, []string{"n1", "n2", "n3", "n4"}, "zone=eu", "user/dave")
	step("the dashboard's Fleet tab")
}

// bobConflict: n2 has an unmanaged account bob; the fleet's bob lands on
// n1 and n3, n2 reports the conflict and its bob stays as it was.
func bobConflict(t *testing.T, n1, n2, n3 *fleetNode) {
	t.Helper()
	n2.ns.must(t, "useradd", "--", "bob")
	line := func() string {
		b, _ := os.ReadFile(filepath.Join(n2.dir, "etc", "passwd"))
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "bob:") {
				return l
			}
		}
		return ""
	}
	was := line()
	out, errs, code := n1.cli(fleetSecret, "user-create", "bob", "--fleet", "--wait", "10s")
	if code != 8 || !strings.Contains(out, "conflict") || !strings.Contains(errs, "n2 (") || strings.Count(out, " ok ") != 2 {
		t.Fatalf("user-create bob --fleet with n2's own bob: exit %d\n%s%s", code, out, errs)
	}
	if now := line(); now != was || was == "" {
		t.Errorf("n2's bob changed: %q -> %q", was, now)
	}
	if out, err := n2.ns.in("stat", "/home/bob").CombinedOutput(); err == nil {
		t.Errorf("n2 got a home for its own bob: %s", out)
	}
	n1.mustCLI("user-delete", "bob", "--fleet")
	if now := line(); now != was {
		t.Errorf("the fleet's delete of bob touched n2's own bob: %q", now)
	}
	n2.ns.must(t, "userdel", "--", "bob")
}

// killDuringCreate kills victim's host while a --fleet create runs on via:
// the create completes on the other nodes, the victim is reported as not
// answering, and once restarted it converges by itself.
func killDuringCreate(t *testing.T, via, victim *fleetNode, name string) {
	t.Helper()
	type result struct {
		out, errs string
		code      int
	}
	done := make(chan result, 1)
	go func() {
		o, e, c := via.cli(fleetSecret, "user-create", name, "--fleet", "--wait", "12s")
		done <- result{o, e, c}
	}()
	victim.kill()
	r := <-done
	if r.code != 8 || strings.Count(r.out, " ok ") != 2 || !strings.Contains(r.errs, victim.name+" (no answer within 12s)") {
		t.Fatalf("user-create %s --fleet on %s with %s killed: exit %d\n%s%s\n%s's log:\n%s", name, via.name, victim.name, r.code, r.out, r.errs, via.name, via.log)
	}
	restarted := time.Now()
	victim.start()
	waitFor(t, victim.name+" converges by itself", 15*time.Second-time.Since(restarted), func() bool {
		_, err := victim.ns.in("id", "-u", name).CombinedOutput()
		return err == nil
	})
}

// wrongSecret: a node whose SECRET_CODESCALERS is not the fleet's gets no
// route and no data, and both sides' logs say why.
func wrongSecret(t *testing.T, lab *fleetLab, n1 *fleetNode) {
	t.Helper()
	n5 := lab.addNode("n5", 5)
	n5.start()
	was := n5.machine()
	_, errs, code := n5.cli("not the fleet's passphrase", "fleet-join", "[411::1]:5300")
	if code != 7 || !strings.Contains(errs, "SECRET_CODESCALERS") { // conflict: not this fleet
		t.Fatalf("fleet-join with the wrong secret: exit %d\n%s", code, errs)
	}
	if !strings.Contains(n5.log.String(), "could not join") || !strings.Contains(n5.log.String(), "TLS handshake failed") {
		t.Errorf("n5's log does not say why:\n%s", n5.log)
	}
	waitFor(t, "n1's log names the wrong secret", 10*time.Second, func() bool {
		return strings.Contains(n1.log.String(), "SECRET_CODESCALERS differs")
	})
	if out := n5.mustCLI("fleet-status"); !strings.Contains(out, "in no fleet") {
		t.Errorf("n5's fleet-status: %s", out)
	}
	noFleetPorts(t, n5)
	if out := n1.mustCLI("node-list"); strings.Contains(out, "n5") {
		t.Errorf("n5 is in the fleet:\n%s", out)
	}
	sameNodeMachine(t, n5, was, n5.machine())
}

// sameNodeMachine compares two machine states of a node.
func sameNodeMachine(t *testing.T, n *fleetNode, before, after map[string]string) {
	t.Helper()
	for k, b := range before {
		a := after[k]
		if k == "qgroups" {
			b, a = qgroupIDs(b), qgroupIDs(a)
		}
		if a != b {
			t.Errorf("%s: %s changed:\n--- before\n%s\n--- after\n%s", n.name, k, b, a)
		}
	}
}

// noTokenLeaked: the forge token and the private keys are in no log, no
// audit record and no store file of the node.
func noTokenLeaked(t *testing.T, n *fleetNode) {
	t.Helper()
	audit := n.mustCLI("--json", "audit-list", "--limit", "1000")
	for _, where := range map[string]string{"log": n.log.String(), "audit": audit} {
		if strings.Contains(where, forgeToken) || strings.Contains(where, "OPENSSH PRIVATE KEY") || strings.Contains(where, fleetSecret) {
			t.Errorf("%s: a secret leaked into the host's log or audit", n.name)
		}
	}
	storeFilesHaveNoToken(t, n)
}

// fleetLayout checks on n what the single-node create makes (DESIGN.md
// §3): modes and owners, the subvolume and its 200M limit, the driver's
// ACL, the token, the marker group — and the fleet's one keypair.
func fleetLayout(t *testing.T, n *fleetNode, uid, pubKey string) {
	t.Helper()
	home := "/home/alice"
	for path, mode := range map[string]string{
		home: "755", home + "/.ssh": "700", home + "/.ssh/authorized_keys": "600",
		home + "/.ssh/id_ed25519": "600", home + "/.ssh/id_ed25519.pub": "644",
		home + "/hero/cfg/hero_cfg.toml": "600", home + "/hero/var/sockets": "755",
	} {
		if got := strings.TrimSpace(n.ns.must(t, "stat", "-c", "%u %a", path)); got != uid+" "+mode {
			t.Errorf("%s: %s is %s, want %s %s", n.name, path, got, uid, mode)
		}
	}
	n.ns.must(t, "btrfs", "subvolume", "show", home)
	if out := n.ns.must(t, "btrfs", "qgroup", "show", "-re", "--raw", home); !strings.Contains(out, "209715200") {
		t.Errorf("%s: the 200M limit is not set:\n%s", n.name, out)
	}
	if out := n.ns.must(t, "getfacl", "-p", home+"/hero/var/sockets"); !strings.Contains(out, "user:driver:r-x") {
		t.Errorf("%s: driver ACL missing:\n%s", n.name, out)
	}
	if out := n.ns.must(t, "cat", home+"/hero/cfg/hero_cfg.toml"); !strings.Contains(out, forgeToken) {
		t.Errorf("%s: hero_cfg.toml lacks the token", n.name)
	}
	if out := n.ns.must(t, "cat", home+"/.ssh/id_ed25519.pub"); strings.TrimSpace(out) != strings.TrimSpace(pubKey) {
		t.Errorf("%s: the public key is %q, the fleet's is %q", n.name, out, pubKey)
	}
	if out := n.ns.must(t, "id", "-nG", "alice"); !strings.Contains(out, "codescalers") {
		t.Errorf("%s: alice not in the marker group: %s", n.name, out)
	}
}

// noFleetPorts: a node in no fleet runs no NATS — none of the fleet's
// ports of instance 0 listens in its network namespace.
func noFleetPorts(t *testing.T, n *fleetNode) {
	t.Helper()
	out := n.ns.must(t, "ss", "-ltnH")
	for _, port := range []string{":5100", ":5200", ":5300"} {
		if strings.Contains(out, port+" ") {
			t.Errorf("%s, in no fleet, listens on %s:\n%s", n.name, port, out)
		}
	}
}

// fleetGroup: group-create devs --fleet --shared -m alice lands on every
// node with one gid, alice a member and its shared volume; it returns the
// gid.
func fleetGroup(t *testing.T, via *fleetNode, nodes []*fleetNode) string {
	t.Helper()
	out := via.mustCLI("group-create", "devs", "--fleet", "--shared", "-m", "alice")
	if strings.Count(out, " ok ") != len(nodes) {
		t.Fatalf("group-create devs --fleet:\n%s", out)
	}
	gid := ""
	for _, n := range nodes {
		line := strings.TrimSpace(n.ns.must(t, "getent", "group", "devs"))
		f := strings.Split(line, ":")
		if len(f) != 4 || f[3] != "alice" || (gid != "" && f[2] != gid) {
			t.Errorf("%s: devs is %q (another node's gid %s)", n.name, line, gid)
		}
		if len(f) > 2 {
			gid = f[2]
		}
		n.ns.must(t, "btrfs", "subvolume", "show", "/home/groups/devs")
	}
	return gid
}
