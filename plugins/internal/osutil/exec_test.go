package osutil

import (
	"context"
	"testing"
	"time"

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

// TestRunToEnd: with RunToEnd a started command outlives its context (an
// account tool is never killed mid-write), and a context already ended
// keeps it from starting; without, the context's end kills it.
func TestRunToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	began := time.Now()
	if _, err := (Exec{RunToEnd: true}).Run(ctx, []string{"sleep", "0.3"}, nil); err != nil || time.Since(began) < 300*time.Millisecond {
		t.Errorf("RunToEnd: %v after %v", err, time.Since(began))
	}
	if _, err := (Exec{RunToEnd: true}).Run(ctx, []string{"sleep", "0"}, nil); !sdkerr.Is(err, sdkerr.Unavailable) {
		t.Errorf("RunToEnd on an ended context: %v", err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if _, err := (Exec{}).Run(ctx2, []string{"sleep", "5"}, nil); err == nil {
		t.Error("a command ran on past its context without RunToEnd")
	}
}
