package core

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

// Defaults of the per-user layout of DESIGN.md §3.
const (
	DefaultHomeRoot    = "/home"
	DefaultMarkerGroup = "codescalers"
	DefaultDriverUser  = "driver"
	DefaultShell       = "/bin/bash"
)

// UserConfig is how this node lays users out.
type UserConfig struct {
	HomeRoot    string
	MarkerGroup string
	DriverUser  string
	UIDs        UIDRange
	Shells      []string // allowed login shells; empty allows DefaultShell and /bin/sh
	// AllowedGroups are the existing groups a managed user may join by
	// name (the root-owned policy's groups), besides the marker group and
	// the groups hero_codescalers made (group-create, in the state).
	AllowedGroups []string
	// PolicySource says where AllowedGroups come from (the policy file,
	// or its built-in defaults), for messages.
	PolicySource string
}

func (c *UserConfig) fill() {
	if c.HomeRoot == "" {
		c.HomeRoot = DefaultHomeRoot
	}
	if c.MarkerGroup == "" {
		c.MarkerGroup = DefaultMarkerGroup
	}
	if c.DriverUser == "" {
		c.DriverUser = DefaultDriverUser
	}
	if c.UIDs == (UIDRange{}) {
		c.UIDs = DefaultUIDRange
	}
	if len(c.Shells) == 0 {
		c.Shells = []string{DefaultShell, "/bin/sh", "/usr/bin/bash", "/usr/bin/zsh", "/bin/zsh", "/usr/bin/fish"}
	}
}

// WithUserConfig sets the per-user layout.
func WithUserConfig(c UserConfig) Option {
	return func(s *Service) { s.cfg = c }
}

// WithPlugins sets the OS plugins the user use cases drive.
func WithPlugins(p Plugins) Option { return func(s *Service) { s.plugins = p } }

// CreateSpec is what user.create asks for. ForgeToken is a secret: it is
// written into the user's hero_cfg.toml and nowhere else.
type CreateSpec struct {
	Name       string
	UID        *int
	SSHKeys    []string
	ForgeToken string
	QuotaBytes int64
	Groups     []string
	Shell      string
	// Keypair, when set, is installed as the user's ~/.ssh/id_ed25519
	// instead of a new one: a fleet user has one keypair on every node.
	Keypair *Keypair
	// Fleet marks the user as made by the fleet agent (User.Fleet).
	Fleet bool
	// Limits are the user's CPU and memory limits (zero: none).
	Limits Limits
}

// limits is the spec's limits as the user record keeps them.
func (sp *CreateSpec) limits() *Limits {
	if sp.Limits.IsZero() {
		return nil
	}
	l := sp.Limits
	return &l
}

// Keypair is an OpenSSH keypair: the authorized_keys line of the public
// half and the private key file. Private is a secret, like a forge token.
type Keypair struct {
	Public  string
	Private string
}

// tokenRE admits the characters forge tokens use, so a token can be written
// into TOML without escaping and never smuggles a newline.
var tokenRE = shape{first: "A-Za-z0-9._~+/=:-", rest: "A-Za-z0-9._~+/=:-", max: 512}

// validate checks a create spec before any tool runs. Messages never echo
// the forge token.
func (s *Service) validateCreate(sp *CreateSpec) error {
	if err := s.validateCreateSpec(sp); err != nil {
		return err
	}
	return s.checkJoinable("groups", sp.Groups)
}

// validateCreateSpec checks a create spec by itself, apart from whether its
// groups may be joined here (a fleet call asks the fleet's groups instead).
func (s *Service) validateCreateSpec(sp *CreateSpec) error {
	if err := ValidateUsername("name", sp.Name); err != nil {
		return err
	}
	if sp.UID != nil {
		if err := ValidateUID("uid", *sp.UID, s.cfg.UIDs); err != nil {
			return err
		}
	}
	if err := sp.Limits.validate(); err != nil {
		return err
	}
	if sp.ForgeToken != "" && !tokenRE.MatchString(sp.ForgeToken) {
		return InvalidField("forge_token", "must be 1-512 of A-Z a-z 0-9 . _ ~ + / = : -")
	}
	if sp.QuotaBytes < 0 {
		return InvalidField("quota", "must not be negative")
	}
	if sp.Shell == "" {
		sp.Shell = DefaultShell
	}
	if !slices.Contains(s.cfg.Shells, sp.Shell) {
		return InvalidField("shell", "%q is not an allowed shell (%s)", sp.Shell, strings.Join(s.cfg.Shells, ", "))
	}
	for _, g := range sp.Groups {
		if err := ValidateGroupName("groups", g); err != nil {
			return err
		}
	}
	if kp := sp.Keypair; kp != nil {
		if _, err := sshkeys.ParseAuthorizedKey(kp.Public); err != nil {
			return InvalidField("keypair", "the public key is not an OpenSSH public key")
		}
		if len(kp.Private) > 16<<10 || !strings.HasPrefix(kp.Private, "-----BEGIN OPENSSH PRIVATE KEY-----") {
			return InvalidField("keypair", "the private key is not an OpenSSH private key")
		}
	}
	keys, err := normalizeKeys("ssh_keys", sp.SSHKeys)
	sp.SSHKeys = keys
	return err
}

// normalizeKeys validates public keys and drops duplicates by fingerprint.
func normalizeKeys(field string, keys []string) ([]string, error) {
	out := []string{}
	seen := map[string]bool{}
	for i, k := range keys {
		ak, err := sshkeys.ParseAuthorizedKey(k)
		if err != nil || strings.ContainsAny(strings.TrimSpace(k), "\n\r") {
			return nil, InvalidField(field, "entry %d is not an OpenSSH public key", i)
		}
		if !seen[ak.Fingerprint] {
			seen[ak.Fingerprint] = true
			out = append(out, strings.TrimSpace(k))
		}
	}
	return out, nil
}

// layout is the §3 table for one user: paths, modes.
type layout struct {
	home, ssh, hero, cfgDir, varDir, sockets, cfgFile string
}

func (s *Service) layoutOf(name string) layout {
	home := filepath.Join(s.cfg.HomeRoot, name)
	return layout{
		home:    home,
		ssh:     filepath.Join(home, ".ssh"),
		hero:    filepath.Join(home, "hero"),
		cfgDir:  filepath.Join(home, "hero", "cfg"),
		varDir:  filepath.Join(home, "hero", "var"),
		sockets: filepath.Join(home, "hero", "var", "sockets"),
		cfgFile: filepath.Join(home, "hero", "cfg", "hero_cfg.toml"),
	}
}

// dirs lists the directories of the layout below the home, parents first,
// with their modes.
func (l layout) dirs() []struct {
	path string
	mode uint32
} {
	return []struct {
		path string
		mode uint32
	}{
		{l.ssh, 0o700}, {l.hero, 0o755}, {l.cfgDir, 0o700}, {l.varDir, 0o755}, {l.sockets, 0o755},
	}
}

// heroConfig renders hero_cfg.toml.
func heroConfig(name, token string) []byte {
	var b strings.Builder
	b.WriteString("# Written by hero_codescalers for " + name + ". Keep this file 0600.\n")
	b.WriteString("[forge]\n")
	b.WriteString("token = \"" + token + "\"\n")
	return []byte(b.String())
}
