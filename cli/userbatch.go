package cli

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// runBatch creates the users of a CSV file through user.create_batch, in
// chunks: one call per chunk keeps each request small and gives the
// progress bar something to count, while still paying one round trip per
// hundred users rather than per user.
func (u *userCreateCmd) runBatch(rt *runCtx) error {
	text, err := readInput(rt, "--from", u.From)
	if err != nil {
		return err
	}
	users, err := parseUsersCSV(bytes.NewReader(text))
	if err != nil {
		return usageErrorf("%s: %v", u.From, err)
	}
	c, err := rt.client()
	if err != nil {
		return err
	}
	total := api.UserCreateBatchResult{Results: make([]api.BatchItem, 0, len(users))}
	bar := newProgress(rt.env.Stderr, "user-create", len(users), isTerminal(rt.env.Stderr))
	for start := 0; start < len(users); start += u.Chunk {
		part := users[start:min(start+u.Chunk, len(users))]
		res, err := c.UserCreateBatch(rt.ctx, part)
		if err != nil {
			bar.finish()
			return rt.batchStopped(total, len(users), redact(err, tokens(part)...))
		}
		redactBatch(&res, tokens(part))
		total.Created += res.Created
		total.Failed += res.Failed
		total.Results = append(total.Results, res.Results...)
		bar.update(len(total.Results), total.Failed)
	}
	bar.finish()
	if err := rt.showBatch(total); err != nil {
		return err
	}
	if total.Failed > 0 {
		return failf("%d of %d users were not created", total.Failed, len(users))
	}
	return nil
}

// batchStopped ends a batch whose call failed as a whole (host gone,
// batch refused). Users of earlier chunks exist, so they are shown before
// the error; the failed chunk may be partly done, which the error says.
func (rt *runCtx) batchStopped(done api.UserCreateBatchResult, total int, err error) error {
	if len(done.Results) == 0 {
		return err // nothing happened: the plain error (and exit 3 if unreachable)
	}
	if werr := rt.showBatch(done); werr != nil {
		return werr
	}
	fmt.Fprintf(rt.env.Stderr, "stopped after %d of %d users: the call for the next chunk failed and may have created some of it; check with user-list\n",
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
