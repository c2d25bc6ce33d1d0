package sdkerrgrpc_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/internal/grpctest"
	sessionsv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/sessions/v1"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// failing answers every KillSession with the error it was given.
type failing struct {
	sessionsv1.UnimplementedSessionsServer
	err error
}

func (f *failing) KillSession(context.Context, *sessionsv1.KillSessionRequest) (*sessionsv1.KillSessionResponse, error) {
	return nil, sdkerrgrpc.ToStatus(f.err)
}

func roundTrip(t *testing.T, err error) error {
	t.Helper()
	conn := grpctest.Conn(t, func(s *grpc.Server) { sessionsv1.RegisterSessionsServer(s, &failing{err: err}) })
	_, got := sessionsv1.NewSessionsClient(conn).KillSession(context.Background(), &sessionsv1.KillSessionRequest{Id: "x"})
	return got
}

func TestEveryCodeSurvivesTheWire(t *testing.T) {
	for _, code := range sdkerr.Codes {
		t.Run(string(code), func(t *testing.T) {
			got := sdkerrgrpc.FromStatus(roundTrip(t, sdkerr.Errorf(code, "boom %d", 7)))
			var e *sdkerr.Error
			if !errors.As(got, &e) {
				t.Fatalf("got %T %v, want *sdkerr.Error", got, got)
			}
			if e.Code != code || e.Message != "boom 7" {
				t.Errorf("got %q %q, want %q %q", e.Code, e.Message, code, "boom 7")
			}
		})
	}
}

func TestCommandErrorSurvivesTheWire(t *testing.T) {
	sent := sdkerr.CommandError([]string{"useradd", "--", "alice"}, 9, "useradd: user 'alice' already exists\n").
		WithCode(sdkerr.AlreadyExists)
	wire := roundTrip(t, fmt.Errorf("step account: %w", sent))
	if status.Code(wire) != codes.AlreadyExists {
		t.Errorf("gRPC code %s, want AlreadyExists for clients in other languages", status.Code(wire))
	}
	var e *sdkerr.Error
	if !errors.As(sdkerrgrpc.FromStatus(wire), &e) {
		t.Fatal("no *sdkerr.Error")
	}
	if e.Code != sdkerr.AlreadyExists || e.ExitCode != 9 || len(e.Command) != 3 || e.Command[2] != "alice" ||
		e.Stderr != "useradd: user 'alice' already exists" {
		t.Errorf("got %+v", e)
	}
}

func TestInvalidKeepsField(t *testing.T) {
	got := sdkerrgrpc.FromStatus(roundTrip(t, sdkerr.Invalid("name", "%q is bad", "-rf")))
	var e *sdkerr.Error
	if !errors.As(got, &e) || e.Field != "name" || e.Code != sdkerr.InvalidArgument {
		t.Errorf("got %#v", got)
	}
}

func TestPlainErrorsBecomeInternal(t *testing.T) {
	got := sdkerrgrpc.FromStatus(roundTrip(t, errors.New("disk on fire")))
	if sdkerr.CodeOf(got) != sdkerr.Internal || got.(*sdkerr.Error).Message != "disk on fire" {
		t.Errorf("got %v", got)
	}
}

func TestStatusWithoutDetail(t *testing.T) {
	// a plugin in another language may send a bare status
	got := sdkerrgrpc.FromStatus(status.Error(codes.NotFound, "no such user"))
	if sdkerr.CodeOf(got) != sdkerr.NotFound {
		t.Errorf("got %v", got)
	}
	if sdkerr.CodeOf(sdkerrgrpc.FromStatus(context.DeadlineExceeded)) != sdkerr.Unavailable {
		t.Error("a timed-out call is not Unavailable")
	}
}
