package main

// Scene is what the test prepared for the attacks, as JSON on stdin. A
// concern that needs more adds its fields here.
type Scene struct {
	// HomeRoot is the policy's home root.
	HomeRoot string `json:"home_root"`
	// User is a managed account (Home is its home); Marker is the
	// policy's marker group.
	User   string `json:"user"`
	Marker string `json:"marker"`
	// Home is a managed account's home, holding File (its own, 0644) and
	// HardLink (a hard link to RootFile, a root-only file on the same
	// filesystem outside the home).
	Home     string `json:"home"`
	UID      uint32 `json:"uid"`
	GID      uint32 `json:"gid"`
	File     string `json:"file"`
	HardLink string `json:"hard_link"`
	RootFile string `json:"root_file"`
	// Linked is another managed account's home whose user planted
	// ~/.ssh -> /etc.
	Linked    string `json:"linked"`
	LinkedUID uint32 `json:"linked_uid"`
	LinkedGID uint32 `json:"linked_gid"`
	// Unmanaged is an account outside the marker group.
	Unmanaged    string `json:"unmanaged"`
	UnmanagedUID uint32 `json:"unmanaged_uid"`
	UnmanagedGID uint32 `json:"unmanaged_gid"`
	// Driver is the account the attacker runs as (the policy's driver).
	Driver string `json:"driver"`
	// Decoy is a root-owned directory outside the home root holding a
	// root-owned file DecoyFile, for the attacks that change what exists.
	Decoy     string `json:"decoy"`
	DecoyFile string `json:"decoy_file"`
}
