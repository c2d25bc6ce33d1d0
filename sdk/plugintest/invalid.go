package plugintest

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// badNames are user, group and session names that must be refused: empty,
// read as an option, read as a path, breaking /etc/passwd, too long.
var badNames = []string{"", "-rf", "../x", "a/b", "a\nb", "a:b", strings.Repeat("a", 33)}

// badIDs are session ids that must be refused.
var badIDs = []string{"", "-rf", "../x", "a/b", "a\nb", "a:b", "a b", strings.Repeat("a", 129)}

// badPaths are refused by every call taking a path: empty, relative, not
// clean, the root itself, with a NUL.
func badPaths(scratch string) []string {
	return []string{"", "relative/x", scratch + "/a/../b", scratch + "/./b", scratch + "//b",
		scratch + "/b/", "/", scratch + "/a\x00b"}
}

// badKeys are not public key lines.
func badKeys() []string {
	edBlob := base64.StdEncoding.EncodeToString(append([]byte{0, 0, 0, 11}, "ssh-ed25519"...))
	return []string{"", "not a key", "ssh-ed25519", "ssh-ed25519 AAAA!!!!", "ssh-rsa " + edBlob,
		sshkeys.FakePublicKey("x") + "\n" + sshkeys.FakePublicKey("injected")}
}

// probeCall makes one harmless call of a concern with bad input, to see
// whether the plugin serves it at all.
func probeCall(ctx context.Context, concern string, raw any) error {
	switch concern {
	case sdk.ConcernAccounts:
		_, err := raw.(accounts.Accounts).GetUser(ctx, "")
		return err
	case sdk.ConcernVolumes:
		_, err := raw.(volumes.Volumes).GetUsage(ctx, "")
		return err
	case sdk.ConcernACL:
		_, err := raw.(acl.ACL).Get(ctx, "")
		return err
	case sdk.ConcernSSHKeys:
		_, err := raw.(sshkeys.SSHKeys).ListAuthorizedKeys(ctx, "")
		return err
	case sdk.ConcernSessions:
		return raw.(sessions.Sessions).KillSession(ctx, "", 0)
	}
	return fmt.Errorf("unknown concern %q", concern)
}

// dispense checks that the plugin serves exactly the concerns it lists.
func (k *kit) dispense(ctx context.Context) error {
	var problems []string
	for _, c := range sdk.Concerns {
		raw, err := k.rpc.Dispense(c)
		if err != nil {
			problems = append(problems, fmt.Sprintf("dispense %s: %v", c, err))
			continue
		}
		cctx, cancel := k.call(ctx)
		err = probeCall(cctx, c, raw)
		cancel()
		listed := slices.Contains(k.info.Concerns, c)
		served := !sdkerr.Is(err, sdkerr.Unimplemented)
		switch {
		case listed && !served:
			problems = append(problems, fmt.Sprintf("lists %s but does not serve it: %v", c, err))
		case !listed && served:
			problems = append(problems, fmt.Sprintf("serves %s but does not list it", c))
		}
	}
	return joinProblems(problems)
}

func joinProblems(problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(problems, "; "))
}

// badCase is one call that must fail with InvalidArgument.
type badCase struct {
	what string
	call func(context.Context) error
}

func (k *kit) invalidInput(ctx context.Context, concern string) error {
	raw, err := k.rpc.Dispense(concern)
	if err != nil {
		return err
	}
	scratch := filepath.Join(k.opts.ScratchDir, "invalid")
	if err := os.MkdirAll(scratch, 0o755); err != nil {
		return err
	}
	var cases []badCase
	switch concern {
	case sdk.ConcernAccounts:
		cases = k.badAccounts(raw.(accounts.Accounts))
	case sdk.ConcernVolumes:
		cases = badVolumes(raw.(volumes.Volumes), scratch, k.owner)
	case sdk.ConcernACL:
		cases = badACL(raw.(acl.ACL), scratch, k.owner)
	case sdk.ConcernSSHKeys:
		cases = badSSHKeys(raw.(sshkeys.SSHKeys), scratch, k.owner)
	case sdk.ConcernSessions:
		cases = badSessions(raw.(sessions.Sessions))
	}
	var problems []string
	for _, c := range cases {
		cctx, cancel := k.call(ctx)
		err := c.call(cctx)
		cancel()
		if !sdkerr.Is(err, sdkerr.InvalidArgument) {
			problems = append(problems, fmt.Sprintf("%s: want invalid_argument, got %s", c.what, describe(err)))
		}
	}
	return joinProblems(problems)
}

func describe(err error) string {
	if err == nil {
		return "success"
	}
	return err.Error()
}

// badAccounts calls only read-only methods with bad names unless the run
// is destructive: a plugin that wrongly accepts "-rf" must not get to run
// useradd with it on the machine under test.
func (k *kit) badAccounts(a accounts.Accounts) []badCase {
	var cases []badCase
	for _, n := range badNames {
		cases = append(cases,
			badCase{fmt.Sprintf("GetUser(%q)", n), func(ctx context.Context) error { _, err := a.GetUser(ctx, n); return err }},
			badCase{fmt.Sprintf("GetGroup(%q)", n), func(ctx context.Context) error { _, err := a.GetGroup(ctx, n); return err }})
		if n != "" {
			cases = append(cases, badCase{fmt.Sprintf("ListUsers(%q)", n),
				func(ctx context.Context) error { _, err := a.ListUsers(ctx, n); return err }})
		}
		if !k.opts.Destructive {
			continue
		}
		cases = append(cases,
			badCase{fmt.Sprintf("CreateUser(%q)", n), func(ctx context.Context) error {
				_, err := a.CreateUser(ctx, accounts.UserSpec{Name: n})
				return err
			}},
			badCase{fmt.Sprintf("DeleteUser(%q)", n), func(ctx context.Context) error {
				return a.DeleteUser(ctx, n, accounts.DeleteOptions{})
			}},
			badCase{fmt.Sprintf("LockUser(%q)", n), func(ctx context.Context) error { return a.LockUser(ctx, n, "") }},
			badCase{fmt.Sprintf("CreateGroup(%q)", n), func(ctx context.Context) error {
				_, err := a.CreateGroup(ctx, n, 0)
				return err
			}})
	}
	return cases
}
