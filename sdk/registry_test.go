package sdk

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/conformance"
	"github.com/threefoldtech/hero_codescalers/sdk/internal/grpctest"
	"google.golang.org/grpc"
)

// TestRegistry: every concern constant names a descriptor whole — the
// parts the sdk, the host and the kit loop over.
func TestRegistry(t *testing.T) {
	for _, name := range []string{ConcernAccounts, ConcernVolumes, ConcernACL, ConcernSSHKeys, ConcernSessions, ConcernLimits} {
		d, ok := Lookup(name)
		switch {
		case !ok:
			t.Errorf("%s: not in the Registry", name)
		case d.API == "" || d.Serve == nil || d.Client == nil || d.Routed == nil || d.Fake == nil || d.Probe == nil || len(d.Checks) == 0:
			t.Errorf("%s: descriptor lacks a part: %+v", name, d)
		}
	}
	if len(Concerns) != len(Registry) {
		t.Errorf("Concerns %v vs %d descriptors", Concerns, len(Registry))
	}
}

// TestManifestAcceptsAnOlderAPI: a plugin of an older contract version
// still validates (the host runs it through its adapter); an unknown
// version does not.
func TestManifestAcceptsAnOlderAPI(t *testing.T) {
	m := Manifest{Schema: 1, Name: "old", Version: "1", Concerns: []string{"sshkeys"},
		APIVersions: []string{"identity.v1", "sshkeys.v1"}}
	if err := m.Validate(); err != nil {
		t.Errorf("v1: %v", err)
	}
	m.APIVersions = []string{"identity.v1", "sshkeys.v9"}
	if m.Validate() == nil {
		t.Error("sshkeys.v9 accepted")
	}
}

// TestChecksPassOnFakes runs every concern's conformance checks against
// its own fake, served and reached through its own descriptor over real
// gRPC: the pieces of a descriptor fit together, and a fake keeps the
// contract its checks describe (the fence checks need a fenced plugin and
// are left to the kit's tests).
func TestChecksPassOnFakes(t *testing.T) {
	for _, d := range Registry {
		conn := grpctest.Conn(t, func(s *grpc.Server) { d.Serve(s, d.Fake()) })
		impl := d.Client(d.API, conn)
		for _, c := range d.Checks {
			if c.Name == "fence" {
				continue
			}
			t.Run(c.Name+"/"+d.Name, func(t *testing.T) {
				dir := t.TempDir()
				env := &conformance.Env{Dir: dir, Owner: conformance.Owner{UID: uint32(os.Getuid()), GID: uint32(os.Getgid()), Name: "ptest-fake"},
					Destructive: true, Ready: true, Timeout: 10 * time.Second,
					Outside: func() (string, error) { return os.MkdirTemp(t.TempDir(), "outside-") },
					State:   func() (conformance.Snapshot, error) { return conformance.SnapshotDir(dir, dir) }}
				err := c.Run(context.Background(), env, impl)
				if _, skip := conformance.IsSkip(err); skip {
					t.Skip(err)
				}
				if _, note := conformance.IsNote(err); err != nil && !note {
					t.Error(err)
				}
			})
		}
	}
}

// TestCheckVersion: the versions the host can rank plugins by.
func TestCheckVersion(t *testing.T) {
	for _, v := range []string{"1", "1.4", "1.4.2", "v2.0.0", "0.0.0-dev", "2.0.0-rc.1", "0.2.0+3f2a1c0"} {
		if err := CheckVersion(v); err != nil {
			t.Errorf("%q: %v", v, err)
		}
	}
	for _, v := range []string{"", "dev", "3f2a1c0", "1.2.3.4", "latest", "1.0 beta"} {
		if CheckVersion(v) == nil {
			t.Errorf("%q accepted", v)
		}
	}
}
