// Package acl is the plugin contract for access entries and ownership of
// paths: POSIX ACLs where the filesystem has them, mode bits otherwise. It
// holds the Go interface, its types and checks, and a map-backed fake; the
// go-plugin glue and the gRPC client and server adapters are in acl/aclgrpc,
// the conformance checks in acl/acltest. Version 2 adds Forget, the end of
// a user; version 1 still runs through the host's adapter for one release.
// Nothing is followed through a symlink, recursive or not, and every call is
// idempotent.
//
// What a plugin refuses on its own (sdk/fsutil's fence; PermissionDenied
// naming the path, entry or owner and the rule): a path that is not
// strictly beneath one of its policy's roots; a grant whose named entry
// names anyone but a managed user or group or the policy's driver
// account; an ownership that the fence refuses (see volumes); a change to
// a regular file with more than one hard link that no managed account
// owns. A recursive grant never follows a link, never enters a mount and
// skips such files.
package acl

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Name is the concern's name: the go-plugin plugin-map key.
const Name = "acl"

// APIVersion is the contract version this package speaks.
const APIVersion = "acl.v2"

// ACL is implemented by an acl plugin.
type ACL interface {
	// Grant adds or replaces the entries (matched by tag, qualifier and
	// default); recursive applies them below a directory too.
	Grant(ctx context.Context, path string, entries []Entry, recursive bool) error
	// Revoke removes the entries matching tag, qualifier and default; perms
	// are ignored, and a missing entry is no error.
	Revoke(ctx context.Context, path string, entries []Entry) error
	Get(ctx context.Context, path string) (List, error)
	// SetOwnership chowns and chmods path without following a symlink;
	// the owner and mode are fenced for what the path is (a directory
	// may be root's with a managed group; a file never).
	SetOwnership(ctx context.Context, path string, uid, gid, mode uint32) error
	// Forget drops what the plugin keeps of a user outside its home
	// (lifecycle.Forgetter). The entries on files are not such state:
	// those in the home go with it. posixacl and mode keep none; a plugin
	// that records its grants (to replay them, say) drops the user's.
	Forget(ctx context.Context, u lifecycle.User) (lifecycle.Forgotten, error)
}

// Tag says what an entry applies to, in getfacl's words.
type Tag string

// The tags of a POSIX ACL.
const (
	TagUserObj  Tag = "user_obj"  // the owner: getfacl's "user::"
	TagUser     Tag = "user"      // a named user
	TagGroupObj Tag = "group_obj" // the owning group: "group::"
	TagGroup    Tag = "group"     // a named group
	TagMask     Tag = "mask"
	TagOther    Tag = "other"
)

// Entry is one access or default entry.
type Entry struct {
	Tag       Tag
	Qualifier string // user or group name or numeric id, for TagUser and TagGroup
	Perms     string // a subset of "rwx", in any order, "-" allowed: "r-x"
	Default   bool   // a default entry of a directory
}

// List is a path's access and default entries.
type List struct {
	Access  []Entry
	Default []Entry
}

// Unimplemented answers every call with an Unimplemented error; embed it.
type Unimplemented struct{}

var _ ACL = Unimplemented{}

func unimplemented(method string) error {
	return sdkerr.Errorf(sdkerr.Unimplemented, "acl.%s is not implemented by this plugin", method)
}

func (Unimplemented) Grant(context.Context, string, []Entry, bool) error {
	return unimplemented("Grant")
}
func (Unimplemented) Revoke(context.Context, string, []Entry) error {
	return unimplemented("Revoke")
}
func (Unimplemented) Get(context.Context, string) (List, error) {
	return List{}, unimplemented("Get")
}
func (Unimplemented) SetOwnership(context.Context, string, uint32, uint32, uint32) error {
	return unimplemented("SetOwnership")
}
func (Unimplemented) Forget(context.Context, lifecycle.User) (lifecycle.Forgotten, error) {
	return lifecycle.Forgotten{}, unimplemented("Forget")
}
