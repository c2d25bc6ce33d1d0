package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/threefoldtech/hero_codescalers/core"
)

// The buckets. Every value in them is sealed (seal.go).
const (
	// bucketDesired holds the desired state: user.NAME, group.NAME and
	// node.NODE (a member's record with its labels).
	bucketDesired = "hc-desired"
	// bucketStatus holds NODE.user.NAME and NODE.group.NAME: each node's
	// outcome per object.
	bucketStatus = "hc-status"
	// bucketNodes holds each node's announcement; entries expire.
	bucketNodes = "hc-nodes"
	// bucketIDs holds uid.N and gid.N (who holds the id) and inuse.NODE
	// (the ids the node's own account files use).
	bucketIDs = "hc-ids"
)

// desiredFeed is where the desired bucket's stream republishes each change
// once stored (DESIREDFEED.KEY, with its revision in the Nats-Sequence
// header): every agent follows it with a plain subscription, so a change
// crosses each route and leaf connection once however many nodes listen,
// where a watch per node is a consumer per node on the stream's leader.
const desiredFeed = "hcfleet.desired"

// statusFeed is where the status bucket's stream republishes each status
// once stored: a fleet call waits on it, so a row it prints is a status
// any later read of the leader finds (the status's own publication
// reaches a subscriber before the stream has stored it).
const statusFeed = "hcfleet.status"

// announceTTL is how long an announcement outlives its node.
const announceTTL = time.Minute

// opTimeout bounds one store operation; writes are retried within
// writeRetry, which outlasts a stream leader's failover (4-7 s measured).
const (
	opTimeout  = 3 * time.Second
	writeRetry = 12 * time.Second
)

// store is the fleet's buckets over one JetStream context.
type store struct {
	js   jetstream.JetStream
	nc   *nats.Conn
	api  string // the JetStream API's subject prefix: "$JS.hc.API." in the domain
	seal *Sealer
	log  *slog.Logger

	mu      sync.Mutex
	buckets map[string]jetstream.KeyValue

	// Per bucket, the last revision this node wrote, and the highest the
	// replicas answering its reads were seen to hold: see fenced.
	fmu   sync.Mutex
	wrote map[string]uint64
	seen  map[string]uint64
}

func newStore(nc *nats.Conn, js jetstream.JetStream, api string, seal *Sealer, log *slog.Logger) *store {
	return &store{nc: nc, js: js, api: api, seal: seal, log: log, buckets: map[string]jetstream.KeyValue{},
		wrote: map[string]uint64{}, seen: map[string]uint64{}}
}

// configs are the buckets' configurations at replicas r.
func configs(r int) []jetstream.KeyValueConfig {
	return []jetstream.KeyValueConfig{
		{Bucket: bucketDesired, History: 1, Replicas: r, Storage: jetstream.FileStorage,
			RePublish: &jetstream.RePublish{Source: "$KV." + bucketDesired + ".>", Destination: desiredFeed + ".>"}},
		{Bucket: bucketStatus, History: 1, Replicas: r, Storage: jetstream.FileStorage,
			RePublish: &jetstream.RePublish{Source: "$KV." + bucketStatus + ".>", Destination: statusFeed + ".>"}},
		{Bucket: bucketNodes, History: 1, Replicas: r, Storage: jetstream.FileStorage, TTL: announceTTL},
		{Bucket: bucketIDs, History: 1, Replicas: r, Storage: jetstream.FileStorage},
		// History 1 is what lets a list read the stream as the bucket: one
		// message per key. nats.go sets AllowDirect on every bucket, which
		// lets any replica answer a direct get.
	}
}

// ensure creates the buckets that are missing, and raises a bucket's
// replicas to r when more replica nodes have joined since it was made.
func (s *store) ensure(ctx context.Context, r int) error {
	for _, cfg := range configs(r) {
		octx, cancel := context.WithTimeout(ctx, opTimeout)
		kv, err := s.js.KeyValue(octx, cfg.Bucket)
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			kv, err = s.js.CreateKeyValue(octx, cfg)
		} else if err == nil {
			err = s.scale(octx, kv, cfg)
		}
		cancel()
		if err != nil {
			return fmt.Errorf("bucket %s: %w", cfg.Bucket, err)
		}
		s.mu.Lock()
		s.buckets[cfg.Bucket] = kv
		s.mu.Unlock()
	}
	return nil
}

// scale raises kv's replicas to cfg's, and gives a bucket made by an
// earlier version cfg's republishing.
func (s *store) scale(ctx context.Context, kv jetstream.KeyValue, cfg jetstream.KeyValueConfig) error {
	st, err := kv.Status(ctx)
	if err != nil {
		return err
	}
	info := st.(*jetstream.KeyValueBucketStatus).StreamInfo()
	republish := cfg.RePublish != nil && (info.Config.RePublish == nil || *info.Config.RePublish != *cfg.RePublish)
	if info.Config.Replicas >= cfg.Replicas && !republish {
		return nil
	}
	if info.Config.Replicas < cfg.Replicas {
		s.log.Info("fleet: raising the store's replicas", "bucket", cfg.Bucket, "from", info.Config.Replicas, "to", cfg.Replicas)
	}
	cfg.Replicas = max(cfg.Replicas, info.Config.Replicas)
	_, err = s.js.UpdateKeyValue(ctx, cfg)
	return err
}

// bucket returns a bound bucket.
func (s *store) bucket(ctx context.Context, name string) (jetstream.KeyValue, error) {
	s.mu.Lock()
	kv := s.buckets[name]
	s.mu.Unlock()
	if kv != nil {
		return kv, nil
	}
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	kv, err := s.js.KeyValue(octx, name)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.buckets[name] = kv
	s.mu.Unlock()
	return kv, nil
}

// unavailable wraps a store failure as the core's Unavailable.
func unavailable(err error) error {
	if ce := (*core.Error)(nil); errors.As(err, &ce) {
		return err
	}
	return core.Wrap(err, core.Unavailable, "the fleet's store does not answer: %v", err)
}

// get opens the value at bucket/key into v and returns its revision. A
// missing key is NotFound; a value that does not open is refused (and
// logged). A store between leaders is waited for, as a write is.
//
// The stream's leader answers it, not any replica (a direct get): a get is
// what an edit's compare-and-set starts from, and a replica that has not
// stored the last write yet would say a user just made does not exist.
func (s *store) get(ctx context.Context, bucket, key string, v any) (uint64, error) {
	rev, _, err := s.getAt(ctx, bucket, key, v)
	return rev, err
}

// getAt is get that also says when the value was stored (the leader's
// clock).
func (s *store) getAt(ctx context.Context, bucket, key string, v any) (uint64, time.Time, error) {
	var data []byte
	var at time.Time
	rev, err := s.retry(ctx, func(octx context.Context) (uint64, error) {
		var rev uint64
		var err error
		data, rev, at, err = s.leaderGet(octx, bucket, key)
		return rev, err
	})
	if err != nil {
		return 0, time.Time{}, err
	}
	return rev, at, s.open(bucket, key, data, v)
}

// msgGetResponse is the JetStream API's answer to STREAM.MSG.GET.
type msgGetResponse struct {
	Message *struct {
		Seq    uint64    `json:"seq"`
		Header []byte    `json:"hdrs"`
		Data   []byte    `json:"data"`
		Time   time.Time `json:"time"`
	} `json:"message"`
	Error *struct {
		ErrCode     int    `json:"err_code"`
		Description string `json:"description"`
	} `json:"error"`
}

// jsNoMessage is JetStream's error code for "no message found".
const jsNoMessage = 10037

// leaderGet asks the stream's leader for the last message of bucket/key,
// and when it was stored; for a delete marker, its revision with the
// NotFound.
func (s *store) leaderGet(ctx context.Context, bucket, key string) ([]byte, uint64, time.Time, error) {
	req, _ := json.Marshal(map[string]string{"last_by_subj": "$KV." + bucket + "." + key})
	msg, err := s.nc.RequestWithContext(ctx, s.api+"STREAM.MSG.GET.KV_"+bucket, req)
	if err != nil {
		return nil, 0, time.Time{}, err
	}
	var resp msgGetResponse
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return nil, 0, time.Time{}, err
	}
	notFound := &core.Error{Code: core.NotFound, Field: "name", Message: key + " not found in the fleet"}
	deleted := &core.Error{Code: core.NotFound, Field: "name", Message: key + " not found in the fleet", Err: errKeyDeleted}
	switch {
	case resp.Error != nil && resp.Error.ErrCode == jsNoMessage:
		return nil, 0, time.Time{}, notFound
	case resp.Error != nil:
		return nil, 0, time.Time{}, fmt.Errorf("get %s/%s: %s", bucket, key, resp.Error.Description)
	case resp.Message == nil:
		return nil, 0, time.Time{}, fmt.Errorf("get %s/%s: an empty answer", bucket, key)
	}
	if len(resp.Message.Header) > 0 {
		h, err := nats.DecodeHeadersMsg(resp.Message.Header)
		if op := h.Get("KV-Operation"); err == nil && (op == "DEL" || op == "PURGE") {
			return nil, resp.Message.Seq, resp.Message.Time, deleted
		}
	}
	return resp.Message.Data, resp.Message.Seq, resp.Message.Time, nil
}

// errKeyDeleted is the cause of a get's NotFound when the key's last
// message is a delete marker (nats.go's KeyValue.Get reports it as not
// found, without a difference).
var errKeyDeleted = errors.New("deleted")

// open opens one value, reporting a refusal.
func (s *store) open(bucket, key string, data []byte, v any) error {
	if err := s.seal.Open(bucket, key, data, v); err != nil {
		s.log.Error("fleet: refused a value of the store: it is not sealed with this fleet's key", "bucket", bucket, "key", key)
		return core.Wrap(err, core.FailedPrecondition, "refused %s/%s: %v", bucket, key, err)
	}
	return nil
}

// Revisions for put.
const (
	anyRevision uint64 = ^uint64(0) // overwrite whatever is there
	newKey      uint64 = 0          // the key must be absent (or deleted)
)

// put seals v and writes it at bucket/key if the key's revision is still
// prev (anyRevision: unconditionally). A lost compare-and-set is
// AlreadyExists (prev newKey) or FailedPrecondition; other failures are
// retried for writeRetry, since a stream whose leader just died refuses
// writes for some seconds.
func (s *store) put(ctx context.Context, bucket, key string, v any, prev uint64) (uint64, error) {
	data, err := s.seal.Seal(bucket, key, v)
	if err != nil {
		return 0, err
	}
	rev, err := s.retry(ctx, func(octx context.Context) (uint64, error) {
		kv, err := s.bucket(octx, bucket)
		if err != nil {
			return 0, err
		}
		switch prev {
		case anyRevision:
			return kv.Put(octx, key, data)
		case newKey:
			return s.create(octx, kv, bucket, key, data)
		}
		rev, err := kv.Update(octx, key, data, prev)
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
			return 0, &core.Error{Code: core.FailedPrecondition, Field: "name", Message: key + " changed meanwhile; try again"}
		}
		return rev, err
	})
	if err == nil {
		s.fmu.Lock()
		s.wrote[bucket] = max(s.wrote[bucket], rev)
		s.fmu.Unlock()
	}
	return rev, err
}

// create writes key if it has no value: none ever, or a delete marker
// last. nats.go's Create learns of a marker from a direct get, which any
// replica answers: one a step behind still holds the value the marker
// removed, and the create is refused though the key is free (an id
// released a moment ago was skipped by every allocation until the
// replica caught up). The stream's leader is asked instead.
func (s *store) create(ctx context.Context, kv jetstream.KeyValue, bucket, key string, data []byte) (uint64, error) {
	exists := &core.Error{Code: core.AlreadyExists, Field: "name", Message: key + " already exists in the fleet"}
	rev, err := kv.Update(ctx, key, data, 0)
	if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return rev, err
	}
	_, marker, _, err := s.leaderGet(ctx, bucket, key)
	switch {
	case errors.Is(err, errKeyDeleted):
	case err == nil, core.IsCode(err, core.NotFound):
		// A value, or a write in flight the leader counts already.
		return 0, exists
	default:
		return 0, err
	}
	rev, err = kv.Update(ctx, key, data, marker)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return 0, exists
	}
	return rev, err
}

// del removes bucket/key (a delete marker), retried like put.
func (s *store) del(ctx context.Context, bucket, key string) error {
	return s.delAt(ctx, bucket, key, anyRevision)
}

// delAt removes bucket/key if its revision is still prev (anyRevision:
// whatever it is). A lost compare-and-set is FailedPrecondition: the key
// was written again meanwhile, by another call.
func (s *store) delAt(ctx context.Context, bucket, key string, prev uint64) error {
	_, err := s.retry(ctx, func(octx context.Context) (uint64, error) {
		kv, err := s.bucket(octx, bucket)
		if err != nil {
			return 0, err
		}
		if prev == anyRevision {
			return 0, kv.Delete(octx, key)
		}
		err = kv.Delete(octx, key, jetstream.LastRevision(prev))
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
			return 0, &core.Error{Code: core.FailedPrecondition, Field: "name", Message: key + " changed meanwhile"}
		}
		return 0, err
	})
	return err
}

// retry runs op, each try bounded by opTimeout, until it succeeds, fails
// with a core error (a decision, not a fault), or writeRetry has passed.
func (s *store) retry(ctx context.Context, op func(context.Context) (uint64, error)) (uint64, error) {
	deadline := time.Now().Add(writeRetry)
	wait := 100 * time.Millisecond
	for {
		octx, cancel := context.WithTimeout(ctx, opTimeout)
		rev, err := op(octx)
		cancel()
		var ce *core.Error
		if err == nil || errors.As(err, &ce) || ctx.Err() != nil || time.Now().After(deadline) {
			if err != nil && ce == nil {
				return 0, unavailable(err)
			}
			return rev, err
		}
		select {
		case <-ctx.Done():
			return 0, unavailable(ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

// entry is one raw value of a bucket with its revision.
type entry struct {
	Key      string
	Revision uint64
	Value    []byte
	Deleted  bool
}

// list reads the current entries of bucket whose keys match filter (a
// subject wildcard such as "user.*"; ">" for all), in one pass of an
// ordered consumer, retried while the store is between leaders.
func (s *store) list(ctx context.Context, bucket, filter string) ([]entry, error) {
	out, _, err := s.listUpTo(ctx, bucket, filter)
	return out, err
}

// listUpTo is list that also says the highest revision read (listRead).
func (s *store) listUpTo(ctx context.Context, bucket, filter string) ([]entry, uint64, error) {
	var out []entry
	var read uint64
	_, err := s.retry(ctx, func(octx context.Context) (uint64, error) {
		var err error
		out, read, err = s.listRead(octx, bucket, filter)
		return 0, err
	})
	return out, read, err
}

// listBatch is how many messages one direct get returns.
const listBatch = 256

// listOnce reads the bucket's current entries by batched direct gets: any
// replica answers, and no consumer is made (an ordered consumer per read
// is a metadata operation on every replica, which made each read cost the
// whole cluster). With one revision kept per key, the stream's messages
// are the bucket's current entries and its delete markers.
//
// The answers come on a channel sized for one batch: a synchronous
// subscription's default queue (64k messages, half a megabyte allocated
// per read) made each read of a busy fleet's agents cost a collection.
func (s *store) listOnce(ctx context.Context, bucket, filter string) ([]entry, error) {
	out, _, err := s.listRead(ctx, bucket, filter)
	return out, err
}

// listRead is listOnce that also says the highest revision it read,
// delete markers included: the last revision of the replica that
// answered when filter is ">", since a bucket keeping one revision per
// key keeps the last message written.
func (s *store) listRead(ctx context.Context, bucket, filter string) ([]entry, uint64, error) {
	return s.readFrom(ctx, bucket, filter, 1, false)
}

// readFrom reads bucket's messages matching filter from stream sequence
// from on, with delete markers (Deleted) when markers is set, and the
// highest sequence read.
func (s *store) readFrom(ctx context.Context, bucket, filter string, from uint64, markers bool) ([]entry, uint64, error) {
	inbox := s.nc.NewRespInbox()
	msgs := make(chan *nats.Msg, listBatch+1) // a batch and its end
	sub, err := s.nc.ChanSubscribe(inbox, msgs)
	if err != nil {
		return nil, 0, err
	}
	defer sub.Unsubscribe()
	prefix := "$KV." + bucket + "."
	if err := s.fenced(ctx, bucket, inbox, msgs); err != nil {
		return nil, 0, err
	}
	var out []entry
	var read uint64
	defer func() {
		if filter == ">" {
			s.fmu.Lock()
			s.seen[bucket] = max(s.seen[bucket], read)
			s.fmu.Unlock()
		}
	}()
	for seq := from; ; {
		ask := map[string]any{"seq": seq, "batch": listBatch}
		if filter != ">" {
			// A bucket's stream holds its keys only: the whole of it is
			// asked for without a subject, which the server reads by
			// sequence. With one ("$KV.B.>") it looked up the subjects:
			// at 5,000 keys, an AllocID that read nothing new took
			// 2.5-3.8 ms with it, 0.9-1.0 ms without.
			ask["next_by_subj"] = prefix + filter
		}
		req, _ := json.Marshal(ask)
		if err := s.nc.PublishRequest(s.api+"DIRECT.GET.KV_"+bucket, inbox, req); err != nil {
			return nil, 0, err
		}
		last, pending, err := s.readBatch(ctx, msgs, prefix, &out, markers)
		read = max(read, last)
		if err != nil || pending == 0 || last == 0 {
			return out, read, err
		}
		seq = last + 1
	}
}

// A node reads its own writes: a direct get is answered by any replica,
// and a follower applies a write a moment after the leader answered it,
// so a read right after this node's own write (a label, then a create
// that selects nodes by it) could miss it. A read of a bucket this node
// wrote past what its reads have seen first asks for the message at that
// revision or after (a key written again since has a newer one), and
// while the replica answering has none, waits and asks again, up to
// fenceWait; then it reads what there is.
const (
	fenceWait  = 2 * time.Second
	fencePause = 2 * time.Millisecond
)

// fenced waits, as above, until the replica answering reads of bucket on
// inbox holds this node's last write to it.
func (s *store) fenced(ctx context.Context, bucket, inbox string, msgs <-chan *nats.Msg) error {
	s.fmu.Lock()
	want, seen := s.wrote[bucket], s.seen[bucket]
	s.fmu.Unlock()
	if want <= seen {
		return nil
	}
	req, _ := json.Marshal(map[string]any{"seq": want, "batch": 1})
	deadline := time.Now().Add(fenceWait)
	for pause := fencePause; ; pause = min(2*pause, 100*time.Millisecond) {
		if err := s.nc.PublishRequest(s.api+"DIRECT.GET.KV_"+bucket, inbox, req); err != nil {
			return err
		}
		var probe []entry
		last, _, err := s.readBatch(ctx, msgs, "$KV."+bucket+".", &probe, true)
		if err != nil {
			return err
		}
		if last >= want || time.Now().After(deadline) {
			// Past the deadline the fence is dropped: a bucket made anew
			// (an external reset) would otherwise cost every read.
			s.fmu.Lock()
			s.seen[bucket] = max(s.seen[bucket], want)
			s.fmu.Unlock()
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

// readBatch reads one batch's messages into out until its end (EOB), delete
// markers too when markers is set; it returns the last sequence read and
// how many messages remain.
func (s *store) readBatch(ctx context.Context, msgs <-chan *nats.Msg, prefix string, out *[]entry, markers bool) (uint64, uint64, error) {
	var last uint64
	for {
		var m *nats.Msg
		select {
		case m = <-msgs:
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		}
		switch m.Header.Get("Status") {
		case "":
		case "204": // end of this batch
			pending, _ := strconv.ParseUint(m.Header.Get("Nats-Num-Pending"), 10, 64)
			return last, pending, nil
		case "404": // nothing (more) to read
			return 0, 0, nil
		default:
			return 0, 0, fmt.Errorf("direct get: %s %s", m.Header.Get("Status"), m.Header.Get("Description"))
		}
		seq, _ := strconv.ParseUint(m.Header.Get("Nats-Sequence"), 10, 64)
		last = seq
		key := strings.TrimPrefix(m.Header.Get("Nats-Subject"), prefix)
		if op := m.Header.Get("KV-Operation"); op == "DEL" || op == "PURGE" {
			if markers {
				*out = append(*out, entry{Key: key, Revision: seq, Deleted: true})
			}
			continue
		}
		*out = append(*out, entry{Key: key, Revision: seq, Value: m.Data})
	}
}

// lastRevision is the bucket's last revision: what a resync compares to
// learn, with one request, whether anything changed.
func (s *store) lastRevision(ctx context.Context, bucket string) (uint64, error) {
	kv, err := s.bucket(ctx, bucket)
	if err != nil {
		return 0, err
	}
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	st, err := kv.Status(octx)
	if err != nil {
		return 0, unavailable(err)
	}
	return st.(*jetstream.KeyValueBucketStatus).StreamInfo().State.LastSeq, nil
}

// isNoResponders reports a request nobody answered (no JetStream yet).
func isNoResponders(err error) bool { return errors.Is(err, nats.ErrNoResponders) }
