package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// keyLine is one authorized_keys line; key is nil for a comment, a blank
// line, or anything else that is not a key, which is kept as it is.
type keyLine struct {
	text string
	key  *sshkeys.AuthorizedKey
}

// parseKey parses one line with x/crypto/ssh, which checks the key
// material itself, not only its framing.
func parseKey(line string) (*sshkeys.AuthorizedKey, error) {
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

func parseFile(data []byte) []keyLine {
	var out []keyLine
	for _, text := range strings.SplitAfter(string(data), "\n") {
		if text == "" {
			continue
		}
		l := keyLine{text: strings.TrimSuffix(text, "\n")}
		if t := strings.TrimSpace(l.text); t != "" && !strings.HasPrefix(t, "#") {
			l.key, _ = parseKey(t)
		}
		out = append(out, l)
	}
	return out
}

func render(lines []keyLine) []byte {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.text)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

func authorizedPath(home string) string { return filepath.Join(home, ".ssh", authorizedName) }

// AddAuthorizedKeys appends the keys whose fingerprint the user's
// ~/.ssh/authorized_keys lacks, as given (options and comment kept); a key
// already there stays as it is, options included. Every key is checked
// before the file is touched; an invalid one is InvalidArgument naming
// it. Under DeferSync the file is written without its fsyncs and named in
// Unsynced: it lies in the home, where the host's Sync reaches.
func (o *OpenSSH) AddAuthorizedKeys(ctx context.Context, u lifecycle.User, keys []string) (sshkeys.Added, error) {
	if err := u.ValidateWithHome(); err != nil {
		return sshkeys.Added{}, err
	}
	home, uid, gid := u.Home, u.UID, u.GID
	parsed := make([]*sshkeys.AuthorizedKey, len(keys))
	for i, k := range keys {
		var err error
		if parsed[i], err = parseKey(k); err != nil {
			return sshkeys.Added{}, sdkerr.Invalid("keys", "key %d (%q) is not a valid OpenSSH public key: %v", i+1, abbrev(k), err)
		}
	}
	defer o.dirs.Lock(filepath.Join(home, ".ssh"))()
	if err := o.Fence.EnsureDir(filepath.Join(home, ".ssh"), uid, gid, 0o700); err != nil {
		return sshkeys.Added{}, err
	}
	path := authorizedPath(home)
	data, st, err := o.Fence.ReadFile(path, maxAuthorizedKeys)
	exists := err == nil
	if err != nil && !sdkerr.Is(err, sdkerr.NotFound) {
		return sshkeys.Added{}, err
	}
	lines := parseFile(data)
	have := map[string]bool{}
	for _, l := range lines {
		if l.key != nil {
			have[l.key.Fingerprint] = true
		}
	}
	added := 0
	for _, k := range parsed {
		if !have[k.Fingerprint] {
			have[k.Fingerprint] = true
			lines = append(lines, keyLine{text: k.Line, key: k})
			added++
		}
	}
	if added == 0 && exists && owned(st, uid, gid, 0o600) {
		return sshkeys.Added{}, nil
	}
	deferred := volumes.SyncDeferred(ctx)
	if err := o.Fence.WriteFile(path, render(lines), uid, gid, 0o600, !deferred); err != nil {
		return sshkeys.Added{}, err
	}
	out := sshkeys.Added{Added: added}
	if deferred {
		out.Unsynced = []string{path}
	}
	return out, nil
}

// RemoveAuthorizedKey drops every line with that fingerprint, keeping the
// file's owner. A missing home, ~/.ssh or file has nothing to remove.
func (o *OpenSSH) RemoveAuthorizedKey(ctx context.Context, u lifecycle.User, fingerprint string) (int, error) {
	if err := u.ValidateWithHome(); err != nil {
		return 0, err
	}
	home := u.Home
	if err := sshkeys.ValidateFingerprint(fingerprint); err != nil {
		return 0, err
	}
	defer o.dirs.Lock(filepath.Join(home, ".ssh"))()
	path := authorizedPath(home)
	data, st, err := o.Fence.ReadFile(path, maxAuthorizedKeys)
	if sdkerr.Is(err, sdkerr.NotFound) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	lines := parseFile(data)
	var kept []keyLine
	for _, l := range lines {
		if l.key == nil || l.key.Fingerprint != fingerprint {
			kept = append(kept, l)
		}
	}
	removed := len(lines) - len(kept)
	if removed == 0 {
		return 0, nil
	}
	return removed, o.Fence.WriteFile(path, render(kept), st.Uid, st.Gid, 0o600, !volumes.SyncDeferred(ctx))
}

// ListAuthorizedKeys returns the key lines of the file, in order; comments
// and lines that are not keys are left out. A missing file lists nothing.
func (o *OpenSSH) ListAuthorizedKeys(_ context.Context, u lifecycle.User) ([]sshkeys.AuthorizedKey, error) {
	if err := u.ValidateWithHome(); err != nil {
		return nil, err
	}
	data, _, err := o.Fence.ReadFile(authorizedPath(u.Home), maxAuthorizedKeys)
	if sdkerr.Is(err, sdkerr.NotFound) {
		return []sshkeys.AuthorizedKey{}, nil
	} else if err != nil {
		return nil, err
	}
	out := []sshkeys.AuthorizedKey{}
	for _, l := range parseFile(data) {
		if l.key != nil {
			out = append(out, *l.key)
		}
	}
	return out, nil
}

// Forget has nothing to drop: openssh keeps a user's keys and keypair in
// its home alone, which the host's volume delete removes whole.
func (o *OpenSSH) Forget(_ context.Context, u lifecycle.User) (lifecycle.Forgotten, error) {
	return lifecycle.Forgotten{}, u.Validate()
}

// abbrev shortens a key for an error message.
func abbrev(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
