package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// userCreateCmd creates one user from flags, or many from a CSV file with
// --from through the batch method. The forge token is best given by file
// or environment: a flag's value is readable by every local user in ps
// and lands in shell history.
type userCreateCmd struct {
	Name           string   `arg:"" optional:"" help:"User name (leave out with --from)."`
	SSHKeys        []string `name:"ssh-key" sep:"none" placeholder:"KEY" help:"A public key for authorized_keys, quoted whole; repeat for more."`
	SSHKeyFiles    []string `name:"ssh-key-file" sep:"none" placeholder:"FILE" help:"Read public keys from FILE, one a line (- for stdin); repeat for more."`
	ForgeToken     string   `name:"forge-token" xor:"token" placeholder:"TOKEN" help:"Forge token for the user's hero_cfg.toml; shows in ps and shell history, so prefer --forge-token-file or env FORGE_TOKEN."`
	ForgeTokenFile string   `name:"forge-token-file" xor:"token" placeholder:"FILE" help:"Read the forge token from FILE (- for stdin); without either flag it comes from env FORGE_TOKEN."`
	Quota          string   `placeholder:"SIZE" help:"Home quota such as 500M or 20G (0: no limit)."`
	Groups         []string `placeholder:"GROUP" help:"Groups to join; repeat or separate with commas."`
	UID            *int     `name:"uid" placeholder:"N" help:"Take this uid instead of allocating one (keeps uids equal across a fleet)."`
	Shell          string   `placeholder:"PATH" help:"Login shell (the host's default is /bin/bash)."`
	CPU            string   `name:"cpu" placeholder:"CORES" help:"Limit the user's processes to this many cores' worth of CPU time, e.g. 2 or 0.5 (needs a limits plugin)."`
	Memory         string   `placeholder:"SIZE" help:"Limit the memory of the user's processes, e.g. 512M or 4G (needs a limits plugin)."`
	From           string   `placeholder:"FILE" help:"Create many users from a CSV file (- for stdin) with the header name,uid,quota,groups,shell,ssh_keys,forge_token."`
	Chunk          int      `default:"100" placeholder:"N" help:"With --from: users per call (1-1000)."`
	Nodes          string   `placeholder:"SELECTOR" help:"With --fleet: the nodes to carry the user, by label: zone=eu,role=gpu (none: every node)."`
	DryRun         bool     `help:"Print the step plan (each user's, with --from), checked as the create would be, and change nothing."`
	IfMissing      bool     `help:"Create the user if it is missing; converge an existing one to the flags (quota, keys added, groups joined) and report what changed: a second run changes nothing and says so."`
	fleetFlags
}

// Help is the detail under `user-create --help`: what the flags' one-line
// help cannot hold.
func (*userCreateCmd) Help() string {
	return `The forge token is taken from --forge-token, else --forge-token-file, else the
environment variable FORGE_TOKEN. Prefer the file or the environment: a flag's
value is visible to every local user in ps and stays in shell history. The
token is written to the user's hero_cfg.toml and never printed.

With --from, every user comes from a CSV file whose first line is a header of
some of the columns name,uid,quota,groups,shell,ssh_keys,forge_token (name is
required); groups and ssh_keys hold several values separated by ";". Lines
starting with # are skipped. The whole file is checked before anything is
sent; a bad file exits 2 and creates nothing. Users are sent --chunk at a time,
two calls in flight (the next chunk's accounts are made while this one's
homes are), with a progress bar on stderr. If a call fails as a whole, no
further chunk is sent. The exit code is 1 if any user failed.`
}

func (u *userCreateCmd) Run(rt *runCtx) error {
	if u.From != "" {
		if err := u.checkBatchFlags(); err != nil {
			return err
		}
		return u.runBatch(rt)
	}
	if u.Name == "" {
		return usageErrorf("user-create needs a NAME, or --from FILE")
	}
	p, err := u.params(rt)
	if err != nil {
		return err
	}
	if (u.CPU != "" || u.Memory != "") && u.IfMissing {
		return usageErrorf("--cpu and --memory make a new user's limits: set an existing user's with user-limits")
	}
	if u.Fleet {
		if u.DryRun || u.IfMissing {
			return usageErrorf("--dry-run and --if-missing are for this node's calls, not --fleet")
		}
		return u.runFleet(rt, p)
	}
	if u.Nodes != "" {
		return usageErrorf("--nodes places a fleet user: add --fleet")
	}
	switch {
	case u.IfMissing:
		return u.ensure(rt, p)
	case u.DryRun:
		return rt.dryRun(api.PlanParams{Method: api.MUserCreate, User: &p})
	}
	c, err := rt.client()
	if err != nil {
		return err
	}
	user, err := c.UserCreate(rt.ctx, p)
	if err != nil {
		return redact(err, p.ForgeToken)
	}
	return rt.emit(user, func(w io.Writer) {
		fmt.Fprintf(w, "created user %s: uid %d, home %s, quota %s, %s, groups %s\n",
			user.Name, user.UID, user.Home, fmtQuota(user.QuotaBytes),
			plural(len(user.SSHKeys), "ssh key"), orNone(strings.Join(user.Groups, ",")))
		writePublicKey(w, user.Name, user.PublicKey)
	})
}

// params gathers the create params from the flags, the key files and the
// token source.
func (u *userCreateCmd) params(rt *runCtx) (api.UserCreateParams, error) {
	if err := oneStdin(append([]string{u.ForgeTokenFile}, u.SSHKeyFiles...)...); err != nil {
		return api.UserCreateParams{}, err
	}
	keys, err := gatherKeys(rt, u.SSHKeys, u.SSHKeyFiles, "--ssh-key-file")
	if err != nil {
		return api.UserCreateParams{}, err
	}
	tok, err := forgeToken(rt, u.ForgeToken, u.ForgeTokenFile)
	if err != nil {
		return api.UserCreateParams{}, err
	}
	return api.UserCreateParams{
		Name: u.Name, UID: u.UID, SSHKeys: keys, ForgeToken: tok,
		Quota: u.Quota, Groups: u.Groups, Shell: u.Shell, CPU: u.CPU, Memory: u.Memory,
	}, nil
}

// checkBatchFlags refuses per-user flags next to --from: every user's
// fields come from the file, and a flag that silently applied to some
// rows (or to none) would surprise.
func (u *userCreateCmd) checkBatchFlags() error {
	var given []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"NAME", u.Name != ""}, {"--ssh-key", len(u.SSHKeys) > 0}, {"--ssh-key-file", len(u.SSHKeyFiles) > 0},
		{"--forge-token", u.ForgeToken != ""}, {"--forge-token-file", u.ForgeTokenFile != ""},
		{"--quota", u.Quota != ""}, {"--groups", len(u.Groups) > 0}, {"--uid", u.UID != nil}, {"--shell", u.Shell != ""},
		{"--fleet", u.Fleet}, {"--nodes", u.Nodes != ""}, {"--if-missing", u.IfMissing},
		{"--cpu", u.CPU != ""}, {"--memory", u.Memory != ""},
	} {
		if f.set {
			given = append(given, f.name)
		}
	}
	if len(given) > 0 {
		return usageErrorf("--from takes every user from the file; %s cannot be combined with it", strings.Join(given, ", "))
	}
	if u.Chunk < 1 || u.Chunk > 1000 {
		return usageErrorf("--chunk %s: must be 1-1000", strconv.Itoa(u.Chunk))
	}
	return nil
}

// writePublicKey sets the generated key apart from the rest of the
// output: it is what the admin must copy next, to the forge.
func writePublicKey(w io.Writer, name, key string) {
	if key == "" {
		return
	}
	fmt.Fprintf(w, "\npublic key of %s (register it on the forge):\n\n%s\n", name, key)
}

// orNone fills an empty list in a sentence, where "-" would read oddly.
func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// runFleet creates the user on the fleet's nodes its placement selects,
// and prints the public key (one for the whole fleet) with the rows.
func (u *userCreateCmd) runFleet(rt *runCtx, p api.UserCreateParams) error {
	fp := api.FleetUserCreateParams{Name: p.Name, UID: p.UID, SSHKeys: p.SSHKeys, ForgeToken: p.ForgeToken,
		Quota: p.Quota, Groups: p.Groups, Shell: p.Shell, CPU: p.CPU, Memory: p.Memory, Nodes: u.Nodes, WaitSecs: u.waitSecs()}
	if err := u.check(); err != nil {
		return err
	}
	c, err := rt.client()
	if err != nil {
		return err
	}
	res, err := c.FleetUserCreate(rt.ctx, fp)
	if err != nil {
		return redact(err, p.ForgeToken)
	}
	err = rt.emit(res, func(w io.Writer) {
		writeFleetResult(w, fmt.Sprintf("created fleet user %s (uid %d)", p.Name, res.UID), res)
		writePublicKey(w, p.Name, res.PublicKey)
	})
	if err != nil {
		return err
	}
	return fleetFailure(res)
}
