package cli

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// chunksInFlight is how many chunk calls a batch keeps open at once. The
// host makes a chunk's accounts in one serial step (one lock, one pass of
// the account tools over the account files, whose cost grows with the
// machine's accounts) and then its homes on a pool; with two calls open,
// the next chunk's account step runs while this chunk's homes are made.
// More would only queue at the accounts plugin's lock.
const chunksInFlight = 2

// chunkCall is one chunk's call as it goes out: its answer arrives on done.
type chunkCall struct {
	part []api.UserCreateParams
	done chan error
	res  api.UserCreateBatchResult
}

// runBatch creates the users of a CSV file through user.create_batch, in
// chunks: one call per chunk keeps each request small and gives the
// progress bar something to count, while still paying one round trip per
// hundred users rather than per user. Chunk k+chunksInFlight is sent once
// chunk k has answered, so the answers are taken in the file's order, and
// once a chunk failed as a whole no chunk after those already in flight
// is sent.
func (u *userCreateCmd) runBatch(rt *runCtx) error {
	text, err := readInput(rt, "--from", u.From)
	if err != nil {
		return err
	}
	users, err := parseUsersCSV(bytes.NewReader(text))
	if err != nil {
		return usageErrorf("%s: %v", u.From, err)
	}
	if u.DryRun {
		return rt.dryRun(api.PlanParams{Method: api.MUserCreateBatch, Users: users})
	}
	c, err := rt.client()
	if err != nil {
		return err
	}
	var chunks []*chunkCall
	for start := 0; start < len(users); start += u.Chunk {
		chunks = append(chunks, &chunkCall{part: users[start:min(start+u.Chunk, len(users))], done: make(chan error, 1)})
	}
	send := func(k int) {
		if k < len(chunks) {
			ch := chunks[k]
			go func() {
				var err error
				ch.res, err = c.UserCreateBatch(rt.ctx, ch.part)
				ch.done <- err
			}()
		}
	}
	for k := range chunksInFlight {
		send(k)
	}
	total := api.UserCreateBatchResult{Results: make([]api.BatchItem, 0, len(users))}
	bar := newProgress(rt.env.Stderr, "user-create", len(users), isTerminal(rt.env.Stderr))
	add := func(ch *chunkCall) {
		redactBatch(&ch.res, tokens(ch.part))
		total.Created += ch.res.Created
		total.Failed += ch.res.Failed
		total.Results = append(total.Results, ch.res.Results...)
	}
	for k, ch := range chunks {
		if err := <-ch.done; err != nil {
			// The chunks already sent after this one finish; what they
			// created is shown with the rest.
			for _, later := range chunks[k+1 : min(k+chunksInFlight, len(chunks))] {
				if <-later.done == nil {
					add(later)
				}
			}
			bar.finish()
			return rt.batchStopped(total, len(users), redact(err, tokens(ch.part)...))
		}
		add(ch)
		bar.update(len(total.Results), total.Failed)
		send(k + chunksInFlight)
	}
	bar.finish()
	if err := rt.showBatch(total); err != nil {
		return err
	}
	if total.Failed > 0 {
		return partialf("%d of %d users were not created", total.Failed, len(users))
	}
	return nil
}

// batchStopped ends a batch of which a call failed as a whole (host gone,
// batch refused). Users of the chunks that went through exist, so they are
// shown before the error; the failed chunk may be partly done, which the
// error says.
func (rt *runCtx) batchStopped(done api.UserCreateBatchResult, total int, err error) error {
	if len(done.Results) == 0 {
		return err // nothing happened: the plain error (and exit 3 if unreachable)
	}
	if werr := rt.showBatch(done); werr != nil {
		return werr
	}
	fmt.Fprintf(rt.env.Stderr, "stopped after %d of %d users: the call for a chunk failed and may have created some of it; check with user-list\n",
		len(done.Results), total)
	return err
}

// showBatch prints the outcome: the created users with their public keys
// (what the admin registers on the forge next), then each failure with its
// message, then the counts.
func (rt *runCtx) showBatch(res api.UserCreateBatchResult) error {
	return rt.emit(res, func(w io.Writer) {
		if res.Created > 0 {
			row(w, "NAME", "UID", "PUBLIC KEY")
			for _, it := range res.Results {
				if it.Error == nil && it.User != nil {
					row(w, it.Name, strconv.Itoa(it.User.UID), it.User.PublicKey)
				}
			}
			fmt.Fprintln(w)
		}
		if res.Failed > 0 {
			row(w, "FAILED", "ERROR")
			for _, it := range res.Results {
				if it.Error != nil {
					row(w, it.Name, batchError(it.Error))
				}
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "created %d, failed %d\n", res.Created, res.Failed)
	})
}

// batchError is one failure on one line: the message, and the field when
// the message does not already name it.
func batchError(e *api.Error) string {
	if e.Data != nil && e.Data.Field != "" && !strings.Contains(e.Message, e.Data.Field) {
		return e.Message + " (field " + e.Data.Field + ")"
	}
	return e.Message
}

// tokens lists the forge tokens of a chunk, for redact.
func tokens(users []api.UserCreateParams) []string {
	var out []string
	for _, u := range users {
		if u.ForgeToken != "" {
			out = append(out, u.ForgeToken)
		}
	}
	return out
}

// redactBatch scrubs every token of the chunk from every failure of it:
// a message about one user could, in a broken host, quote another's.
func redactBatch(res *api.UserCreateBatchResult, secrets []string) {
	secrets = worthRedacting(secrets)
	for i, it := range res.Results {
		if it.Error != nil && len(secrets) > 0 {
			res.Results[i].Error = redactWire(it.Error, secrets)
		}
	}
}
