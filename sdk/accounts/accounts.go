// Package accounts is the plugin contract for Linux users and groups: the Go
// interface a plugin implements, its types and checks, and a map-backed fake
// for unit tests; the go-plugin glue and the gRPC client and server adapters
// are in accounts/accountsgrpc. Every call is
// idempotent: creating what exists identically succeeds, deleting what is
// missing succeeds. A non-empty marker group restricts a call to users that
// are members of it, so accounts hero_codescalers does not manage (root,
// system and people's own accounts) are never modified.
package accounts

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Name is the concern's name: the go-plugin plugin-map key and the word in
// a manifest's concerns.
const Name = "accounts"

// APIVersion is the contract version this package speaks.
const APIVersion = "accounts.v1"

// Accounts is implemented by an accounts plugin.
type Accounts interface {
	// CreateUser creates the user, or returns it when an identical one
	// exists; a different user of that name is AlreadyExists.
	CreateUser(ctx context.Context, spec UserSpec) (User, error)
	// CreateUsers creates many users in one pass (one lock, one rewrite of
	// the account files), reporting each spec's outcome in order. The error
	// is for the batch as a whole.
	//
	// The host journals every name before the call and, after a crash,
	// undoes the call with DeleteUser of each name. So an account the
	// plugin made must be deletable from its first appearance on the
	// machine, even when the crash came before it joined the marker group
	// (a plugin that writes the account before its membership): the
	// built-in plugins record such accounts (name and uid, before the
	// first write) on a root-owned pending record that lets DeleteUser of
	// exactly that account through, and drop them once they are members.
	CreateUsers(ctx context.Context, specs []UserSpec) ([]BatchResult, error)
	DeleteUser(ctx context.Context, name string, opts DeleteOptions) error
	GetUser(ctx context.Context, name string) (User, error)
	// ListUsers lists the members of group, or every user when group is "".
	ListUsers(ctx context.Context, group string) ([]User, error)
	LockUser(ctx context.Context, name, markerGroup string) error
	UnlockUser(ctx context.Context, name, markerGroup string) error
	// SetUserGroups makes groups the user's exact supplementary set, keeping
	// the marker group.
	SetUserGroups(ctx context.Context, name string, groups []string, markerGroup string) (User, error)
	// CreateGroup creates a group; gid 0 allocates one.
	CreateGroup(ctx context.Context, name string, gid uint32) (Group, error)
	DeleteGroup(ctx context.Context, name string) error
	GetGroup(ctx context.Context, name string) (Group, error)
	// SetGroupMembers makes members the group's exact member list.
	SetGroupMembers(ctx context.Context, name string, members []string) (Group, error)
}

// UserSpec describes a user to create.
type UserSpec struct {
	Name         string
	UID          uint32 // 0 allocates from login.defs' UID_MIN..UID_MAX
	PrimaryGroup string // "" means a group named like the user
	Groups       []string
	Shell        string
	Home         string
	GECOS        string
	CreateHome   bool   // false when a volumes plugin makes the home
	MarkerGroup  string // joined on create
}

// User is an account as the machine holds it.
type User struct {
	Name   string
	UID    uint32
	GID    uint32
	Home   string
	Shell  string
	Groups []string // supplementary groups
	Locked bool
	GECOS  string
}

// Group is a group as the machine holds it.
type Group struct {
	Name    string
	GID     uint32
	Members []string
}

// DeleteOptions tunes DeleteUser.
type DeleteOptions struct {
	RemoveHome  bool
	MarkerGroup string
}

// BatchResult is one spec's outcome in CreateUsers: the user, or an error
// (an *sdkerr.Error on the host side).
type BatchResult struct {
	User User
	Err  error
}

// Unimplemented answers every call with an Unimplemented error. Embed it so
// that a plugin serving part of the contract still compiles when the
// contract grows.
type Unimplemented struct{}

var _ Accounts = Unimplemented{}

func unimplemented(method string) error {
	return sdkerr.Errorf(sdkerr.Unimplemented, "accounts.%s is not implemented by this plugin", method)
}

func (Unimplemented) CreateUser(context.Context, UserSpec) (User, error) {
	return User{}, unimplemented("CreateUser")
}
func (Unimplemented) CreateUsers(context.Context, []UserSpec) ([]BatchResult, error) {
	return nil, unimplemented("CreateUsers")
}
func (Unimplemented) DeleteUser(context.Context, string, DeleteOptions) error {
	return unimplemented("DeleteUser")
}
func (Unimplemented) GetUser(context.Context, string) (User, error) {
	return User{}, unimplemented("GetUser")
}
func (Unimplemented) ListUsers(context.Context, string) ([]User, error) {
	return nil, unimplemented("ListUsers")
}
func (Unimplemented) LockUser(context.Context, string, string) error {
	return unimplemented("LockUser")
}
func (Unimplemented) UnlockUser(context.Context, string, string) error {
	return unimplemented("UnlockUser")
}
func (Unimplemented) SetUserGroups(context.Context, string, []string, string) (User, error) {
	return User{}, unimplemented("SetUserGroups")
}
func (Unimplemented) CreateGroup(context.Context, string, uint32) (Group, error) {
	return Group{}, unimplemented("CreateGroup")
}
func (Unimplemented) DeleteGroup(context.Context, string) error {
	return unimplemented("DeleteGroup")
}
func (Unimplemented) GetGroup(context.Context, string) (Group, error) {
	return Group{}, unimplemented("GetGroup")
}
func (Unimplemented) SetGroupMembers(context.Context, string, []string) (Group, error) {
	return Group{}, unimplemented("SetGroupMembers")
}
