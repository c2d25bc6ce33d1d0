package sshkeys

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"regexp"
	"strings"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// keyTypes are the public key algorithms sshd accepts in authorized_keys.
var keyTypes = map[string]bool{
	"ssh-ed25519": true, "ssh-rsa": true, "ssh-dss": true,
	"ecdsa-sha2-nistp256": true, "ecdsa-sha2-nistp384": true, "ecdsa-sha2-nistp521": true,
	"sk-ssh-ed25519@openssh.com": true, "sk-ecdsa-sha2-nistp256@openssh.com": true,
	"ssh-ed25519-cert-v01@openssh.com": true, "ssh-rsa-cert-v01@openssh.com": true,
	"ecdsa-sha2-nistp256-cert-v01@openssh.com": true,
}

var fingerprintRE = regexp.MustCompile(`^SHA256:[A-Za-z0-9+/]{43}$`)

// maxLine bounds an authorized_keys line; sshd's own limit is 8 KiB.
const maxLine = 8192

// ParseAuthorizedKey parses one authorized_keys line: optional options, the
// key type, the base64 key blob (whose embedded type must match) and an
// optional comment. It needs only the standard library, so the host and
// plugins in any state can check a key before it is written anywhere.
func ParseAuthorizedKey(line string) (AuthorizedKey, error) {
	line = strings.TrimSpace(line)
	switch {
	case line == "":
		return AuthorizedKey{}, sdkerr.Invalid("key", "is empty")
	case len(line) > maxLine:
		return AuthorizedKey{}, sdkerr.Invalid("key", "is longer than %d bytes", maxLine)
	case strings.ContainsAny(line, "\r\n\x00"):
		return AuthorizedKey{}, sdkerr.Invalid("key", "must be a single line")
	}
	var k AuthorizedKey
	rest := line
	if first, _, _ := strings.Cut(rest, " "); !keyTypes[first] {
		k.Options, rest = splitOptions(rest)
	}
	fields := strings.Fields(rest)
	if len(fields) < 2 || !keyTypes[fields[0]] {
		return AuthorizedKey{}, sdkerr.Invalid("key", "is not an OpenSSH public key line")
	}
	k.Type = fields[0]
	blob, err := base64.StdEncoding.DecodeString(fields[1])
	if err != nil || blobType(blob) != k.Type {
		return AuthorizedKey{}, sdkerr.Invalid("key", "%s key data is malformed", k.Type)
	}
	k.Fingerprint = Fingerprint(blob)
	k.Comment = strings.Join(fields[2:], " ")
	k.Line = strings.TrimSpace(strings.Join([]string{k.Options, k.Type, fields[1], k.Comment}, " "))
	return k, nil
}

// splitOptions cuts the options field, which ends at the first space
// outside double quotes.
func splitOptions(s string) (opts, rest string) {
	quoted := false
	for i, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case (r == ' ' || r == '\t') && !quoted:
			return s[:i], strings.TrimSpace(s[i+1:])
		}
	}
	return s, ""
}

// blobType reads the algorithm name every SSH public key blob starts with.
func blobType(blob []byte) string {
	if len(blob) < 4 {
		return ""
	}
	n := binary.BigEndian.Uint32(blob)
	if uint64(n) > uint64(len(blob)-4) {
		return ""
	}
	return string(blob[4 : 4+n])
}

// Fingerprint is the SHA256 fingerprint of a key blob, as ssh-keygen -l
// prints it.
func Fingerprint(blob []byte) string {
	sum := sha256.Sum256(blob)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// ValidateFingerprint checks a "SHA256:..." fingerprint.
func ValidateFingerprint(fp string) error {
	if !fingerprintRE.MatchString(fp) {
		return sdkerr.Invalid("fingerprint", "%q is not a SHA256:… fingerprint", fp)
	}
	return nil
}
