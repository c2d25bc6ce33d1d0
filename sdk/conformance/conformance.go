// Package conformance is what a concern's conformance checks are made of:
// the Env the kit (sdk/plugintest) gives each check, the Check type every
// concern lists in its descriptor (sdk/concern), and the helpers the
// checks share — steps that stop at the first failure, tables of bad input
// that must be refused, a snapshot of a directory tree to see what a call
// changed, and the search for state a user left behind.
//
// Each concern keeps its own checks beside its contract (sdk/sshkeys/
// sshkeystest, …); the kit runs the checks of every concern a plugin
// serves against its client, so a new concern brings its checks with it.
package conformance

import (
	"context"
	"errors"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
)

// Check is one named conformance check of a concern: the kit reports it
// as "<Name>/<concern>". Run gets the plugin's client of the concern (its
// Go interface, through the same adapters the host uses) and fails with an
// error saying what is wrong; Skip and Note shape other outcomes.
type Check struct {
	Name string
	Run  func(ctx context.Context, env *Env, impl any) error
}

// Owner is an account the checks give files to.
type Owner struct {
	UID, GID uint32
	Name     string
}

// Env is what the kit gives a check.
type Env struct {
	// Dir is a fresh directory for this check, beneath the home root of
	// the plugin's policy: what a check creates goes here.
	Dir string
	// Owner is the managed account the checks give files and ACL entries
	// to: the sandbox's, or the kit's own user without a sandbox.
	Owner Owner
	// Destructive allows checks that change the machine outside Dir (the
	// accounts checks create a real account).
	Destructive bool
	// Ready is what the plugin's Probe said: a plugin that is not ready
	// here has a failure skipped, not failed.
	Ready bool
	// Timeout bounds each call.
	Timeout time.Duration
	// Outside makes a fresh directory beneath none of the plugin's roots,
	// for the fence checks.
	Outside func() (string, error)
	// State snapshots every place the kit can see where a plugin may keep
	// per-user state: the scratch directory, and the sandbox's /etc and
	// the tmpfs that cover the machine's homes and temporary directories.
	// Keys are the paths as the plugin sees them.
	State func() (Snapshot, error)
	// Baseline is State before any check ran (nil: none taken), and
	// Scratch the scratch directory: outside it, what a user left is
	// judged against the baseline — a plugin whose Forget cannot drop a
	// file it keeps by the user's name leaves it from one check to the
	// next, and never "changes" it within one.
	Baseline Snapshot
	Scratch  string
}

// User is the account the lifecycle checks act for: the owner, with a home
// beneath dir named after it (as the host lays homes out).
func (e *Env) User(dir string) lifecycle.User {
	return lifecycle.User{Name: e.Owner.Name, UID: e.Owner.UID, GID: e.Owner.GID, Home: dir + "/" + e.Owner.Name}
}

// Call bounds one call by the Env's timeout.
func (e *Env) Call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, e.Timeout)
}

// skipped marks a check as skipped rather than failed.
type skipped string

func (s skipped) Error() string { return string(s) }

// note passes a check with a note for the report.
type note string

func (n note) Error() string { return string(n) }

// Skip is a check's result when it cannot run here (the machine lacks
// what it needs, the run is not destructive): reported, never a failure.
func Skip(reason string) error { return skipped(reason) }

// Note is a check's result when it passed with something worth reporting.
func Note(text string) error { return note(text) }

// IsSkip reports whether err is a Skip, and its reason.
func IsSkip(err error) (string, bool) {
	var s skipped
	if errors.As(err, &s) {
		return string(s), true
	}
	return "", false
}

// IsNote reports whether err is a Note, and its text.
func IsNote(err error) (string, bool) {
	var n note
	if errors.As(err, &n) {
		return string(n), true
	}
	return "", false
}
