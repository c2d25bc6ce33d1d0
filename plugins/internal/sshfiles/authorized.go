// Package sshfiles is what the sshkeys plugins share: authorized_keys
// files parsed and rewritten line by line (keys deduplicated by
// fingerprint, comments and unknown lines kept), and the user's own
// ed25519 keypair in OpenSSH's formats, written through the plugin's
// fence (sdk/fsutil) without following a link.
package sshfiles

import (
	"bytes"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

// MaxAuthorizedKeys bounds what an authorized_keys file may hold.
const MaxAuthorizedKeys = 1 << 20

// Line is one authorized_keys line; Key is nil for a comment, a blank
// line, or anything else that is not a key, which is kept as it is.
type Line struct {
	Text string
	Key  *sshkeys.AuthorizedKey
}

// ParseKey parses one line with x/crypto/ssh, which checks the key
// material itself, not only its framing.
func ParseKey(line string) (*sshkeys.AuthorizedKey, error) {
	line = strings.TrimSpace(line)
	pub, comment, options, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, fmt.Errorf("more than one line")
	}
	return &sshkeys.AuthorizedKey{Line: line, Type: pub.Type(), Fingerprint: ssh.FingerprintSHA256(pub),
		Comment: comment, Options: strings.Join(options, ",")}, nil
}

// ParseKeys parses every key of a request before any file is touched; an
// invalid one is InvalidArgument naming it.
func ParseKeys(keys []string) ([]*sshkeys.AuthorizedKey, error) {
	out := make([]*sshkeys.AuthorizedKey, len(keys))
	for i, k := range keys {
		var err error
		if out[i], err = ParseKey(k); err != nil {
			return nil, sdkerr.Invalid("keys", "key %d (%q) is not a valid OpenSSH public key: %v", i+1, abbrev(k), err)
		}
	}
	return out, nil
}

// Parse splits a file into its lines.
func Parse(data []byte) []Line {
	var out []Line
	for _, text := range strings.SplitAfter(string(data), "\n") {
		if text == "" {
			continue
		}
		l := Line{Text: strings.TrimSuffix(text, "\n")}
		if t := strings.TrimSpace(l.Text); t != "" && !strings.HasPrefix(t, "#") {
			l.Key, _ = ParseKey(t)
		}
		out = append(out, l)
	}
	return out
}

// Render joins lines into a file.
func Render(lines []Line) []byte {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// Add appends the keys whose fingerprint lines lack, as given (options
// and comment kept); a key already there stays as it is. It returns the
// lines and how many keys were new.
func Add(lines []Line, keys []*sshkeys.AuthorizedKey) ([]Line, int) {
	have := map[string]bool{}
	for _, l := range lines {
		if l.Key != nil {
			have[l.Key.Fingerprint] = true
		}
	}
	added := 0
	for _, k := range keys {
		if !have[k.Fingerprint] {
			have[k.Fingerprint] = true
			lines = append(lines, Line{Text: k.Line, Key: k})
			added++
		}
	}
	return lines, added
}

// Remove drops every line of the key with fingerprint, and says how many.
func Remove(lines []Line, fingerprint string) ([]Line, int) {
	var kept []Line
	for _, l := range lines {
		if l.Key == nil || l.Key.Fingerprint != fingerprint {
			kept = append(kept, l)
		}
	}
	return kept, len(lines) - len(kept)
}

// Keys lists the key lines, in order.
func Keys(lines []Line) []sshkeys.AuthorizedKey {
	out := []sshkeys.AuthorizedKey{}
	for _, l := range lines {
		if l.Key != nil {
			out = append(out, *l.Key)
		}
	}
	return out
}

// abbrev shortens a key for an error message.
func abbrev(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
