package core

import (
	"context"
	"time"
)

// ApplyFleetUsers converges this node to many desired users at once, as
// the agent does when it finds many changes (a node that joins an existing
// fleet, or one back after a long absence): the users to create go
// through the batch path (one accounts call for all, homes in parallel,
// one sync), the others one by one as ApplyFleetUser. The statuses come in
// the order of ds.
func (s *Service) ApplyFleetUsers(ctx context.Context, labels map[string]string, ds []FleetUser) []NodeStatus {
	out := make([]NodeStatus, len(ds))
	ctx = asFleetAgent(ctx)
	began := time.Now()
	var creates []int
	for i, d := range ds {
		if s.plugins != nil && d.Placed(labels) {
			if _, err := s.UserGet(ctx, d.Name); IsCode(err, NotFound) {
				creates = append(creates, i)
				continue
			}
		}
		out[i] = s.ApplyFleetUser(ctx, labels, d)
	}
	if len(creates) == 0 {
		return out
	}
	// Chunks, a few open at once, the way user-create --from sends them
	// (cli/userbatch.go): a chunk's accounts are one serial step of the
	// accounts plugin, its homes are made on a pool, and with two chunks
	// open the next chunk's accounts are made while this one's homes are.
	// One batch made every account before any home: on the fleet bench's
	// joining node, 1,022 users took 8.4 s (accounts 1.9 s, then homes
	// 6.5 s) where --from took 6.6 s; in chunks, 5.4 s where --from took
	// 4.9 s.
	onPool(fleetChunksInFlight, (len(creates)+fleetChunk-1)/fleetChunk, func(k int) {
		s.applyCreates(ctx, ds, creates[k*fleetChunk:min((k+1)*fleetChunk, len(creates))], out, began)
	})
	return out
}

// fleetChunk is how many users ApplyFleetUsers creates in one batch, and
// fleetChunksInFlight how many such batches it runs at once: the sizes
// user-create --from uses by default.
const (
	fleetChunk          = 100
	fleetChunksInFlight = 2
)

// applyCreates creates the users ds[idx...] through UserCreateBatch and
// fills their statuses.
func (s *Service) applyCreates(ctx context.Context, ds []FleetUser, idx []int, out []NodeStatus, began time.Time) {
	byName, byUID, err := s.machineIDs(ctx)
	var specs []CreateSpec
	var index []int
	for _, i := range idx {
		d := ds[i]
		outcome, cerr := fleetCollision(d, byName, byUID)
		if err != nil {
			outcome, cerr = FleetError, err
		}
		if cerr != nil {
			out[i] = s.fleetStatus(UserObject(d.Name), d.Revision, outcome, cerr, began)
			continue
		}
		specs = append(specs, fleetSpec(d))
		index = append(index, i)
	}
	if len(specs) == 0 {
		return
	}
	res, err := s.UserCreateBatch(ctx, specs, nil)
	for k, i := range index {
		d := ds[i]
		var itemErr error
		switch {
		case err != nil:
			itemErr = err
		case res[k].Err != nil:
			itemErr = res[k].Err
		default:
			itemErr = s.lockThenKeys(ctx, d)
		}
		outcome := FleetOK
		if itemErr != nil {
			outcome = FleetError
		}
		out[i] = s.fleetStatus(UserObject(d.Name), d.Revision, outcome, itemErr, began)
	}
}
