//go:build integration

package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// TestPluginRefusesAnUnusablePolicy: a policy file someone other than
// root could have written, or one that fences nothing, makes a plugin
// refuse to serve — Probe not ready, naming the file and the problem, and
// every call failed_precondition — rather than fall back to defaults;
// a sound policy's roots are the plugin's, and only they.
func TestPluginRefusesAnUnusablePolicy(t *testing.T) {
	sandbox.Require(t)
	volOwners(t)
	bin := buildPlugin(t, "dir")
	keepFile(t, policy.Path)
	os.MkdirAll(filepath.Dir(policy.Path), 0o755)
	sound := policy.Defaults("/etc")
	dir := homeTempDir(t, "hcpolicy-")
	sound.HomeRoots = []string{dir}
	for name, tc := range map[string]struct {
		text string
		mode os.FileMode
		want string // in Probe's reason; "" for a sound policy
	}{
		"world-writable": {string(sound.Render()), 0o666, "writable by group or others"},
		"fences nothing": {`home_roots = ["/"]` + "\n", 0o644, "would fence nothing"},
		"does not parse": {"home_roots = [\n", 0o644, policy.Path},
		"sound":          {string(sound.Render()), 0o644, ""},
	} {
		t.Run(name, func(t *testing.T) {
			os.Remove(policy.Path)
			if err := os.WriteFile(policy.Path, []byte(tc.text), tc.mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(policy.Path, tc.mode)
			c := startPlugin(t, bin)
			res, err := dispense[identity.Identity](t, c, sdk.ConcernIdentity).Probe(context.Background())
			v := dispense[volumes.Volumes](t, c, sdk.ConcernVolumes)
			own := volumes.Owner{UID: volUID, GID: volGID, Mode: 0o600}
			inside, home := filepath.Join(dir, "f"), filepath.Join(sandbox.HomeRoot, "hcpolicy-elsewhere")
			switch {
			case err != nil:
				t.Fatal(err)
			case tc.want == "":
				if !res.Ready {
					t.Errorf("Probe with a sound policy: %+v", res)
				}
				if err := v.WriteFile(context.Background(), inside, nil, own); err != nil {
					t.Errorf("WriteFile beneath the policy's root: %v", err)
				}
				if err := v.WriteFile(context.Background(), home, nil, own); !sdkerr.Is(err, sdkerr.PermissionDenied) {
					t.Errorf("WriteFile in /home, not a root of this policy: %v", err)
				}
			default:
				if res.Ready || !strings.Contains(res.Reason, tc.want) {
					t.Errorf("Probe: %+v, want not ready naming %q", res, tc.want)
				}
				if err := v.WriteFile(context.Background(), inside, nil, own); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
					t.Errorf("WriteFile under an unusable policy: %v", err)
				}
			}
		})
	}
}
