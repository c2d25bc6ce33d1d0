package core

import (
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

// KeyInfo is a public key as a person reads it: type, SHA256 fingerprint
// (what user.key.remove takes) and comment.
type KeyInfo struct {
	Type        string `json:"type"`
	Fingerprint string `json:"fingerprint"`
	Comment     string `json:"comment,omitempty"`
	Line        string `json:"line"`
}

// DescribeKey parses an authorized_keys line; a line that does not parse
// comes back with only Line set.
func DescribeKey(line string) KeyInfo {
	k, err := sshkeys.ParseAuthorizedKey(line)
	if err != nil {
		return KeyInfo{Line: line}
	}
	return KeyInfo{Type: k.Type, Fingerprint: k.Fingerprint, Comment: k.Comment, Line: k.Line}
}

// lifecycleUser is the user as the plugins are told of it: name, ids and
// home, the same in every call.
func (u *User) lifecycleUser() lifecycle.User {
	return lifecycle.User{Name: u.Name, UID: uint32(u.UID), GID: uint32(u.GID), Home: u.Home}
}
