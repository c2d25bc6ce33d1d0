package fleet

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// lagging is a replica answering direct gets of one bucket that stores
// the leader's writes only when told (has): what a follower is for a
// moment after the leader answered a write.
type lagging struct {
	mu    sync.Mutex
	has   uint64 // the last sequence stored
	asked []uint64
}

func (l *lagging) answer(nc *nats.Conn, m *nats.Msg) {
	var req struct {
		Seq   uint64 `json:"seq"`
		Batch int    `json:"batch"`
	}
	_ = json.Unmarshal(m.Data, &req)
	l.mu.Lock()
	l.asked = append(l.asked, req.Seq)
	has := l.has
	l.mu.Unlock()
	reply := func(status string, seq uint64) {
		out := nats.NewMsg(m.Reply)
		if status != "" {
			out.Header.Set("Status", status)
			out.Header.Set("Nats-Num-Pending", "0")
		} else {
			out.Header.Set("Nats-Sequence", strconv.FormatUint(seq, 10))
			out.Header.Set("Nats-Subject", "$KV.b.k"+strconv.FormatUint(seq, 10))
			out.Data = []byte("v")
		}
		_ = nc.PublishMsg(out)
	}
	if req.Seq > has {
		reply("404", 0)
		return
	}
	// One message per sequence from req.Seq, as a stream of keys written
	// once each.
	for seq := req.Seq; seq <= has && (req.Batch == 0 || seq < req.Seq+uint64(req.Batch)); seq++ {
		reply("", seq)
	}
	reply("204", 0)
}

// TestAReadFollowsThisNodesWrite: a read of a bucket this node wrote
// waits until the replica answering holds that write (the fence), then
// reads; a read after it, with no new write, asks nothing more first; and
// a replica that never gets there costs one fenceWait, not every read.
func TestAReadFollowsThisNodesWrite(t *testing.T) {
	srv := runNATS(t, &server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true})
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	rep := &lagging{has: 5}
	if _, err := nc.Subscribe("$JS.API.DIRECT.GET.KV_b", func(m *nats.Msg) { rep.answer(nc, m) }); err != nil {
		t.Fatal(err)
	}
	st := newStore(nc, nil, "$JS.API.", nil, testLog(t))
	st.wrote["b"] = 8 // this node's write, which the replica has not stored
	go func() {
		// The replica stores it after the read has asked a few times.
		for {
			rep.mu.Lock()
			n := len(rep.asked)
			if n >= 3 {
				rep.has = 8
			}
			rep.mu.Unlock()
			if n >= 3 {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	ctx := context.Background()
	entries, read, err := st.readFrom(ctx, "b", ">", 1, false)
	if err != nil {
		t.Fatal(err)
	}
	if read != 8 || len(entries) != 8 {
		t.Errorf("read %d entries up to %d; want 8, up to this node's write", len(entries), read)
	}
	rep.mu.Lock()
	asked := append([]uint64(nil), rep.asked...)
	rep.asked = nil
	rep.mu.Unlock()
	if len(asked) < 4 || asked[0] != 8 || asked[len(asked)-1] != 1 {
		t.Errorf("the replica was asked for %v; want 8 until it had it, then the read from 1", asked)
	}
	if _, _, err := st.readFrom(ctx, "b", ">", 1, false); err != nil {
		t.Fatal(err)
	}
	rep.mu.Lock()
	if len(rep.asked) != 1 {
		t.Errorf("a read with nothing new written asked %v first", rep.asked)
	}
	rep.asked = nil
	rep.mu.Unlock()

	// A replica that never gets the write (a bucket made anew): one read
	// waits fenceWait, the next does not wait again.
	st.wrote["b"] = 100
	start := time.Now()
	if _, _, err := st.readFrom(ctx, "b", ">", 1, false); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < fenceWait {
		t.Errorf("a read gave up on the fence after %v, before fenceWait", took)
	}
	rep.mu.Lock()
	rep.asked = nil
	rep.mu.Unlock()
	if _, _, err := st.readFrom(ctx, "b", ">", 1, false); err != nil {
		t.Fatal(err)
	}
	rep.mu.Lock()
	defer rep.mu.Unlock()
	if len(rep.asked) != 1 {
		t.Errorf("the read after one that gave up asked %v; want only the read", rep.asked)
	}
}
