package sdkerr_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

func TestCodeOf(t *testing.T) {
	if sdkerr.CodeOf(nil) != "" {
		t.Error("nil has a code")
	}
	wrapped := fmt.Errorf("ctx: %w", sdkerr.Errorf(sdkerr.NotFound, "x"))
	if !sdkerr.Is(wrapped, sdkerr.NotFound) {
		t.Error("wrapped code lost")
	}
	cause := errors.New("cause")
	if e := sdkerr.Errorf(sdkerr.Internal, "read: %w", cause); !errors.Is(e, cause) {
		t.Error("%w cause not kept")
	}
}
