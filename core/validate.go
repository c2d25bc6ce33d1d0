package core

import (
	"bufio"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
)

// The shapes are matched by small hand-written checks rather than regexps
// with bounded repetition ({0,61} compiles to sixty copies): compiling those
// cost a millisecond at every start of every CLI call.
var (
	nameRE  = shape{first: "a-z", rest: "a-z0-9_-", max: 32}
	nodeRE  = shape{first: "a-z0-9", rest: "a-z0-9._-", last: "a-z0-9", max: 63}
	labelRE = shape{first: "A-Za-z0-9", rest: "A-Za-z0-9._/-", max: 63}
)

// shape is a name pattern: one character of first, then characters of
// rest, the final one (when last is set) of last, at most max bytes.
type shape struct {
	first, rest, last string
	max               int
}

// MatchString reports whether s has the shape.
func (p shape) MatchString(s string) bool {
	if s == "" || len(s) > p.max || !inSet(s[0], p.first) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !inSet(s[i], p.rest) {
			return false
		}
	}
	return p.last == "" || len(s) == 1 || inSet(s[len(s)-1], p.last)
}

// inSet reports whether c is in a set written like a regexp class body:
// ranges "a-z" and single characters, a trailing "-" meaning itself.
func inSet(c byte, set string) bool {
	for i := 0; i < len(set); i++ {
		if i+2 < len(set) && set[i+1] == '-' {
			if c >= set[i] && c <= set[i+2] {
				return true
			}
			i += 2
			continue
		}
		if c == set[i] {
			return true
		}
	}
	return false
}

// reservedNames are refused whatever the machine holds: the superuser, the
// host's own account, and the usual system accounts of Debian, Fedora and
// Arch, so a typo can never make hero_codescalers manage them.
var reservedNames = map[string]bool{
	"root": true, "driver": true, "daemon": true, "bin": true, "sys": true,
	"sync": true, "games": true, "man": true, "lp": true, "mail": true,
	"news": true, "uucp": true, "proxy": true, "www-data": true,
	"backup": true, "list": true, "irc": true, "gnats": true, "nobody": true,
	"nogroup": true, "sshd": true, "messagebus": true, "systemd-network": true,
	"systemd-resolve": true, "systemd-timesync": true, "polkitd": true,
	"adm": true, "sudo": true, "wheel": true, "shadow": true, "utmp": true,
	"tty": true, "disk": true, "kmem": true, "operator": true, "halt": true,
	"shutdown": true, "codescalers": true, "staff": true, "users": true,
	"groups": true, // <home root>/groups holds the groups' shared volumes
}

// IsReservedName reports whether name is never to be managed.
func IsReservedName(name string) bool { return reservedNames[name] }

// ValidateUsername checks a user name for shape and reservation. The shape is
// strict on purpose: useradd accepts "../x", "a/b", "Alice" and "ünï", and
// reads "-rf" as options, so the tools are never trusted to refuse.
func ValidateUsername(field, name string) error {
	if name == "" {
		return InvalidField(field, "is required")
	}
	if !nameRE.MatchString(name) {
		return InvalidField(field, "must match ^[a-z][a-z0-9_-]{0,31}$ (lower-case letter first, then up to 31 of a-z 0-9 _ -)")
	}
	if reservedNames[name] {
		return InvalidField(field, "%q is reserved", name)
	}
	return nil
}

// ValidateGroupName checks a group name: the same rules as a user name.
func ValidateGroupName(field, name string) error { return ValidateUsername(field, name) }

// ValidateNodeName checks a node name: a DNS label-like name, with "_"
// allowed for the default names of instances (host_1).
func ValidateNodeName(field, name string) error {
	if name == "" {
		return InvalidField(field, "is required")
	}
	if !nodeRE.MatchString(name) {
		return InvalidField(field, "must be 1-63 of a-z 0-9 . _ - and start and end with a letter or digit")
	}
	return nil
}

// ValidateLabels checks node labels: keys and values are short plain tokens.
func ValidateLabels(field string, labels map[string]string) error {
	if len(labels) > 64 {
		return InvalidField(field, "at most 64 labels")
	}
	for k, v := range labels {
		if !labelRE.MatchString(k) {
			return InvalidField(field, "label key %q must be 1-63 of A-Z a-z 0-9 . _ / -", k)
		}
		if v != "" && !labelRE.MatchString(v) {
			return InvalidField(field, "label %q value must be 1-63 of A-Z a-z 0-9 . _ / -", k)
		}
	}
	return nil
}

// ValidateNodeAddress accepts an IP address, optionally with a port
// ("[400::1]:5000", "10.0.0.1:5000"), or a host name, optionally with a
// port ("node-1.example:5300"). A bare IPv6 address has no port (its
// colons are the address's): it means the default port. Refused: a port
// outside 1..65535, an IPv6 zone or link-local address ("fe80::1%eth0":
// it reaches nothing beyond its link), the unspecified ("::", "0.0.0.0"),
// a multicast or the broadcast address, a host name with an empty label
// ("a..b"), anything else.
func ValidateNodeAddress(field, addr string) error {
	_, _, err := SplitNodeAddress(field, addr)
	return err
}

// SplitNodeAddress splits a valid node address into its host (an IP
// literal, without brackets, or a host name) and port (0: none given).
func SplitNodeAddress(field, addr string) (host string, port int, err error) {
	bad := func(why string) (string, int, error) {
		return "", 0, InvalidField(field, "%q %s", addr, why)
	}
	if addr == "" {
		return "", 0, InvalidField(field, "is required")
	}
	if strings.Contains(addr, "://") || strings.Contains(addr, "@") {
		// Not echoed: a URL may carry a password.
		return "", 0, InvalidField(field, "is a URL, not HOST:PORT (an external NATS is given with --nats-url)")
	}
	if a, err := netip.ParseAddr(addr); err == nil {
		if why := notANode(a); why != "" {
			return bad(why)
		}
		return a.String(), 0, nil
	}
	host, ps, err := net.SplitHostPort(addr)
	switch {
	case err != nil:
		host, ps = addr, ""
	case ps == "":
		return bad("has no valid port (1-65535)")
	}
	if ps != "" {
		p, err := strconv.Atoi(ps)
		if err != nil || p < 1 || p > 65535 {
			return bad("has no valid port (1-65535)")
		}
		port = p
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if why := notANode(a); why != "" {
			return bad(why)
		}
		if a.Is6() && !strings.HasPrefix(addr, "[") {
			return bad("is an IPv6 address with a port: write it [ADDRESS]:PORT")
		}
		return a.String(), port, nil
	}
	if !validHostName(host) {
		return bad("is neither an IP address nor a host name")
	}
	return host, port, nil
}

// notANode says why a is no node's address, or "" when it can be one:
// the unspecified address, a multicast or the broadcast address name no
// node, and an IPv6 link-local address (zone or not) reaches nothing
// beyond one link.
func notANode(a netip.Addr) string {
	switch u := a.Unmap(); {
	case a.Zone() != "":
		return "has an IPv6 zone: give an address that routes beyond one link"
	case u.IsUnspecified():
		return "is the unspecified address: it names no node"
	case u.IsMulticast() || u == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "is a multicast or broadcast address, not a node's"
	case u.Is6() && u.IsLinkLocalUnicast():
		return "is an IPv6 link-local address: give an address that routes beyond one link"
	}
	return ""
}

// validHostName checks a DNS name: labels of 1-63 letters, digits and
// hyphens, not starting or ending with a hyphen, 253 bytes in all.
func validHostName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(strings.ToLower(h), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if !inSet(label[i], "a-z0-9-") {
				return false
			}
		}
	}
	return true
}

// ParseWhitelist parses and normalises UI access list entries: IPv4 or IPv6
// addresses, or prefixes in CIDR notation. Duplicates are dropped; the order
// given is kept.
func ParseWhitelist(field string, entries []string) ([]string, error) {
	if len(entries) > 1024 {
		return nil, InvalidField(field, "at most 1024 entries")
	}
	out := make([]string, 0, len(entries))
	seen := map[string]bool{}
	for i, raw := range entries {
		s := strings.TrimSpace(raw)
		var norm string
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, InvalidField(field, "entry %d %q is not an IP address or CIDR prefix", i, raw)
			}
			norm = p.Masked().String()
		} else {
			a, err := netip.ParseAddr(s)
			if err != nil || a.Zone() != "" {
				return nil, InvalidField(field, "entry %d %q is not an IP address or CIDR prefix", i, raw)
			}
			norm = a.Unmap().String()
		}
		if !seen[norm] {
			seen[norm] = true
			out = append(out, norm)
		}
	}
	return out, nil
}

// WhitelistAllows reports whether addr is admitted by the list. An empty list
// admits nobody: the dashboard has no login in front of root-equivalent
// actions, so on a global overlay "no list" must not mean "everyone" (the
// seed's rule). Only --dashboard-open admits every TCP peer.
func WhitelistAllows(list []string, addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, e := range list {
		if strings.Contains(e, "/") {
			if p, err := netip.ParsePrefix(e); err == nil && p.Contains(addr) {
				return true
			}
		} else if a, err := netip.ParseAddr(e); err == nil && a == addr {
			return true
		}
	}
	return false
}

// ParseQuota parses a size such as "500M", "20G", "1.5T" or "1048576" (bytes)
// with binary multiples (K = 1024). Zero means no limit; negatives are
// refused.
func ParseQuota(field, s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, InvalidField(field, "is empty")
	}
	mult := int64(1)
	num := s
	upper := strings.ToUpper(s)
	upper = strings.TrimSuffix(strings.TrimSuffix(upper, "IB"), "B")
	if upper != "" {
		switch upper[len(upper)-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		case 'P':
			mult = 1 << 50
		}
		if mult != 1 {
			upper = upper[:len(upper)-1]
		}
	}
	num = upper
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" || strings.ContainsAny(num, "eExX") {
		return 0, InvalidField(field, "%q is not a size like 500M or 20G", s)
	}
	if f < 0 || math.IsNaN(f) {
		return 0, InvalidField(field, "%q is negative", s)
	}
	v := f * float64(mult)
	if v > float64(math.MaxInt64/2) {
		return 0, InvalidField(field, "%q is too large", s)
	}
	return int64(v), nil
}

// UIDRange is the range of uids hero_codescalers may give a user.
type UIDRange struct{ Min, Max int }

// DefaultUIDRange is the shadow-utils default when login.defs says nothing.
var DefaultUIDRange = UIDRange{Min: 1000, Max: 60000}

// Contains reports whether uid is in the range.
func (r UIDRange) Contains(uid int) bool { return uid >= r.Min && uid <= r.Max }

// ReadUIDRange reads UID_MIN and UID_MAX from a login.defs file, falling back
// to the shadow-utils defaults for a missing file or key.
func ReadUIDRange(path string) (UIDRange, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return DefaultUIDRange, nil
	}
	if err != nil {
		return UIDRange{}, err
	}
	defer f.Close()
	return ParseUIDRange(f)
}

// ParseUIDRange parses login.defs text.
func ParseUIDRange(r io.Reader) (UIDRange, error) {
	rng := DefaultUIDRange
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		v, err := strconv.Atoi(fields[1])
		if err != nil || v < 0 {
			continue
		}
		switch fields[0] {
		case "UID_MIN":
			rng.Min = v
		case "UID_MAX":
			rng.Max = v
		}
	}
	if err := sc.Err(); err != nil {
		return UIDRange{}, err
	}
	if rng.Min < 1 || rng.Max < rng.Min {
		return UIDRange{}, Errorf(FailedPrecondition, "login.defs: bad UID range %d..%d", rng.Min, rng.Max)
	}
	return rng, nil
}

// ValidateUID checks a uid a caller asked for against the range. A caller
// that wants one allocated gives none (a nil pointer in the API), so an
// explicit 0 is refused like any uid outside the range.
func ValidateUID(field string, uid int, r UIDRange) error {
	if !r.Contains(uid) {
		return InvalidField(field, "%d is outside UID_MIN..UID_MAX (%d..%d)", uid, r.Min, r.Max)
	}
	return nil
}

// checkJoinable refuses, before any tool runs, a supplementary group a
// managed user may not join: anything but the marker group, a group the
// policy names (UserConfig.AllowedGroups) and a group hero_codescalers
// made (group-create: in the state). docker, video, the admin group or
// another user's own group would hand the user their powers. The accounts
// plugin refuses them on its own, whatever the host says; this names the
// group early, as bad input.
func (s *Service) checkJoinable(field string, groups []string) error {
	var check []string
	for _, g := range groups {
		if g != s.cfg.MarkerGroup && !slices.Contains(s.cfg.AllowedGroups, g) {
			check = append(check, g)
		}
	}
	if len(check) == 0 {
		return nil
	}
	return s.store.View(func(tx Tx) error {
		for _, g := range check {
			var grp Group
			found, err := getJSON(tx, keyGroup+g, &grp)
			if err != nil {
				return err
			}
			if !found {
				return InvalidField(field, "%s is not a group hero_codescalers manages (make it with group-create) nor one its policy allows (%s)",
					g, s.allowedText())
			}
		}
		return nil
	})
}

// allowedText names the groups the policy allows, and where it comes
// from, for the message of a refused group.
func (s *Service) allowedText() string {
	src := s.cfg.PolicySource
	if src == "" {
		src = "the policy"
	}
	if len(s.cfg.AllowedGroups) == 0 {
		return "none by " + src
	}
	return strings.Join(s.cfg.AllowedGroups, ", ") + " by " + src
}
