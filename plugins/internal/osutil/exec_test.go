package osutil

import (
	"context"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

func TestExecError(t *testing.T) {
	_, err := Exec{}.Run(context.Background(), []string{"sh", "-c", "echo boom >&2; exit 9"}, nil)
	if !sdkerr.Is(err, sdkerr.Internal) || ExitCode(err) != 9 {
		t.Fatalf("got %v", err)
	}
	if _, err := (Exec{}).Run(context.Background(), []string{"no-such-tool-hc"}, nil); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Fatalf("missing tool: %v", err)
	}
}
