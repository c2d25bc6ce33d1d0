package sdk

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/threefoldtech/hero_codescalers/sdk/internal/grpctest"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys/sshkeysgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes/volumesgrpc"
	"google.golang.org/grpc"
)

// markRecorder is an sshkeys plugin that notes whether each call came
// under volumes.DeferSync.
type markRecorder struct {
	sshkeys.Unimplemented
	mu    sync.Mutex
	marks []bool
}

func (r *markRecorder) ListAuthorizedKeys(ctx context.Context, _ lifecycle.User) ([]sshkeys.AuthorizedKey, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.marks = append(r.marks, volumes.SyncDeferred(ctx))
	return nil, nil
}

// TestServerRestoresDeferSync: the server sdk.Serve makes turns the host's
// defer-sync metadata back into the mark, for any concern's calls.
func TestServerRestoresDeferSync(t *testing.T) {
	stdout, stderr := os.Stdout, os.Stderr
	t.Cleanup(func() { os.Stdout, os.Stderr = stdout, stderr }) // restoreStdio swaps them
	st := newStopper(hclog.NewNullLogger(), time.Second, os.Stderr)
	rec := &markRecorder{}
	conn := grpctest.ConnWith(t, st.newServer(nil),
		func(s *grpc.Server) { sshkeysgrpc.Concern.Serve(s, rec) },
		grpc.WithChainUnaryInterceptor(volumesgrpc.DeferSyncClientInterceptor))
	c := sshkeysgrpc.NewClient(conn)
	for _, ctx := range []context.Context{volumes.DeferSync(context.Background()), context.Background()} {
		if _, err := c.ListAuthorizedKeys(ctx, lifecycle.User{Name: "alice", Home: "/home/alice"}); err != nil {
			t.Fatal(err)
		}
	}
	if len(rec.marks) != 2 || !rec.marks[0] || rec.marks[1] {
		t.Errorf("marks seen by the plugin: %v, want [true false]", rec.marks)
	}
}
