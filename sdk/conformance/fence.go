package conformance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Fence asks the plugin to act on a directory beneath none of its
// policy's roots — the sandbox's outside directory, or outside the
// machine's roots without a sandbox — and checks that every call is
// refused (permission_denied, as sdk/fsutil's fence answers) and that
// nothing there appeared or changed. The directory holds a file "target"
// and a directory "home" to aim at; calls makes the calls from its path.
// It is the check of every concern that places files.
func (e *Env) Fence(ctx context.Context, calls func(outside string) []BadCase) error {
	outside, err := e.Outside()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(outside, "target"), []byte("keep\n"), 0o600); err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(outside, "home"), 0o755); err != nil {
		return err
	}
	before, err := SnapshotDir(outside, outside)
	if err != nil {
		return err
	}
	list := calls(outside)
	var problems, notes []string
	for _, c := range list {
		cctx, cancel := e.Call(ctx)
		err := c.Call(cctx)
		cancel()
		switch {
		case err == nil:
			problems = append(problems, c.What+": accepted")
		case !sdkerr.Is(err, sdkerr.PermissionDenied) && e.Ready:
			problems = append(problems, fmt.Sprintf("%s: want permission_denied, got %s", c.What, Describe(err)))
		case !sdkerr.Is(err, sdkerr.PermissionDenied):
			notes = append(notes, fmt.Sprintf("%s: %s", c.What, sdkerr.CodeOf(err)))
		}
	}
	after, err := SnapshotDir(outside, outside)
	if err != nil {
		return err
	}
	if d := DiffText(before, after); d != "" {
		problems = append(problems, "outside its roots the plugin changed: "+d)
	}
	if len(problems) > 0 {
		return Problems(problems)
	}
	text := fmt.Sprintf("%d calls on %s refused; nothing there changed", len(list), outside)
	if len(notes) > 0 {
		text += " (not ready, refused with " + strings.Join(notes, ", ") + ")"
	}
	return Note(text)
}
