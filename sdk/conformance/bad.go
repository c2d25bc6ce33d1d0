package conformance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// BadCase is one call that must fail with a given code.
type BadCase struct {
	What string
	Call func(context.Context) error
}

// BadNames are user, group and session names that must be refused: empty,
// read as an option, read as a path, breaking /etc/passwd, too long.
var BadNames = []string{"", "-rf", "../x", "a/b", "a\nb", "a:b", strings.Repeat("a", 33)}

// BadIDs are session ids that must be refused.
var BadIDs = []string{"", "-rf", "../x", "a/b", "a\nb", "a:b", "a b", strings.Repeat("a", 129)}

// BadPaths are refused by every call taking a path: empty, relative, not
// clean, the root itself, with a NUL.
func BadPaths(scratch string) []string {
	return []string{"", "relative/x", scratch + "/a/../b", scratch + "/./b", scratch + "//b",
		scratch + "/b/", "/", scratch + "/a\x00b"}
}

// InvalidDir is the directory, beneath Dir, that invalid-input checks
// name in their cases: a plugin that wrongly accepts one acts there (its
// working directory is the scratch directory too), never elsewhere.
func (e *Env) InvalidDir() (string, error) {
	dir := filepath.Join(e.Dir, "invalid")
	return dir, os.MkdirAll(dir, 0o755)
}

// ExpectInvalid runs every case and fails the check with each one that did
// not answer InvalidArgument.
func (e *Env) ExpectInvalid(ctx context.Context, cases []BadCase) error {
	var problems []string
	for _, c := range cases {
		cctx, cancel := e.Call(ctx)
		err := c.Call(cctx)
		cancel()
		if !sdkerr.Is(err, sdkerr.InvalidArgument) {
			problems = append(problems, fmt.Sprintf("%s: want invalid_argument, got %s", c.What, Describe(err)))
		}
	}
	return Problems(problems)
}
