package conformance

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
)

// Steps runs calls in order under one timeout each, stopping at the first
// failure; a call's error is named by its step.
type Steps struct {
	env *Env
	ctx context.Context
	err error
}

// Steps starts a sequence of calls.
func (e *Env) Steps(ctx context.Context) *Steps { return &Steps{env: e, ctx: ctx} }

// Do runs fn unless an earlier step failed.
func (s *Steps) Do(what string, fn func(context.Context) error) {
	if s.err != nil {
		return
	}
	cctx, cancel := s.env.Call(s.ctx)
	defer cancel()
	if err := fn(cctx); err != nil {
		s.err = fmt.Errorf("%s: %w", what, err)
	}
}

// Fail records err as the sequence's failure unless one came first.
func (s *Steps) Fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

// Err is the first failure, or nil.
func (s *Steps) Err() error { return s.err }

// Verdict turns the first failure into the check's outcome: a plugin that
// cannot work here (wrong filesystem, not root, not ready) is skipped with
// its own reason, anything else fails.
func (s *Steps) Verdict() error {
	if s.err == nil {
		return nil
	}
	if sdkerrgrpc.FromTransport(s.err) {
		// Not the plugin saying it cannot work here: it did not answer
		// within the call's timeout, or its process died.
		return fmt.Errorf("the plugin did not answer (it hung past the call's timeout, or its process died): %w", s.err)
	}
	switch sdkerr.CodeOf(s.err) {
	case sdkerr.FailedPrecondition, sdkerr.PermissionDenied, sdkerr.Unavailable:
		return Skip("cannot run here: " + s.err.Error())
	}
	if !s.env.Ready {
		return Skip("plugin not ready, and: " + s.err.Error())
	}
	return s.err
}

// Twice runs fn twice: the contract's calls are idempotent.
func Twice(fn func() error) error {
	if err := fn(); err != nil {
		return err
	}
	if err := fn(); err != nil {
		return fmt.Errorf("second call: %w", err)
	}
	return nil
}

// WantNotFound passes only a NotFound error.
func WantNotFound(err error) error {
	if sdkerr.Is(err, sdkerr.NotFound) {
		return nil
	}
	return fmt.Errorf("want not_found, got %s", Describe(err))
}

// Count checks a count returned with an error: Count(call())(want).
func Count(n int, err error) func(want int) error {
	return func(want int) error {
		if err != nil {
			return err
		}
		if n != want {
			return fmt.Errorf("count %d, want %d", n, want)
		}
		return nil
	}
}

// Describe is err's text, or "success".
func Describe(err error) string {
	if err == nil {
		return "success"
	}
	return err.Error()
}

// Problems joins what a check found wrong into its failure, nil for none.
func Problems(problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(problems, "; "))
}

// RandomSuffix is six lower-case letters, for throwaway names.
func RandomSuffix() string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}

// Abbrev shortens s for a report.
func Abbrev(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
