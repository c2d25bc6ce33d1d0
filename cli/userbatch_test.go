package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// batchHost creates every user of a batch except those named bad*, whose
// errors quote their forge token (a broken host); the call whose first
// user is named failAt fails as a whole. It records each call's first
// user.
type batchHost struct {
	*fakeHost
	mu    sync.Mutex
	calls []string
}

func newBatchHost(t *testing.T, failAt string) *batchHost {
	b := &batchHost{}
	b.fakeHost = newFakeHost(t, answers{api.MUserCreateBatch: func(raw json.RawMessage) (any, *api.Error) {
		var p api.UserCreateBatchParams
		json.Unmarshal(raw, &p)
		b.mu.Lock()
		b.calls = append(b.calls, fmt.Sprintf("%s+%d", p.Users[0].Name, len(p.Users)))
		b.mu.Unlock()
		if p.Users[0].Name == failAt {
			return nil, &api.Error{Code: api.CodePluginUnavailable, Message: "accounts plugin unavailable"}
		}
		return batchAnswer(p.Users), nil
	}})
	return b
}

// sent lists the calls the host got, each as its first user and size,
// sorted: two are in flight at once, so they arrive in either order.
func (b *batchHost) sent() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Sorted(slices.Values(b.calls))
}

func batchAnswer(users []api.UserCreateParams) api.UserCreateBatchResult {
	var res api.UserCreateBatchResult
	for i, u := range users {
		it := api.BatchItem{Name: u.Name}
		if strings.HasPrefix(u.Name, "bad") {
			it.Error = &api.Error{Code: api.CodeInvalidParams, Message: "groups: no such group (token " + u.ForgeToken + ")",
				Data: &api.ErrorData{Kind: "invalid", Field: "groups"}}
			res.Failed++
		} else {
			it.User = &core.User{Name: u.Name, UID: 3000 + i, PublicKey: "ssh-ed25519 AAAA" + u.Name}
			res.Created++
		}
		res.Results = append(res.Results, it)
	}
	return res
}

// usersFile writes a CSV of the given names, each with a forge token, and
// returns its path.
func usersFile(t *testing.T, names ...string) string {
	var b strings.Builder
	b.WriteString("name,groups,forge_token\n")
	for _, n := range names {
		fmt.Fprintf(&b, "%s,devs,%s-%s\n", n, secretToken, n)
	}
	path := filepath.Join(shortDir(t), "users.csv")
	os.WriteFile(path, []byte(b.String()), 0o600)
	return path
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%03d", prefix, i)
	}
	return out
}

// TestBatchChunksAndProgress: 250 users go in calls of 100, 100 and 50,
// with a plain progress line per call on a stderr that is no terminal.
func TestBatchChunksAndProgress(t *testing.T) {
	h := newBatchHost(t, "")
	r := runCLI(t, nil, "--server", h.socket, "user-create", "--from", usersFile(t, names("u", 250)...))
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := h.sent(); !slices.Equal(got, []string{"u000+100", "u100+100", "u200+50"}) {
		t.Fatalf("calls %v", got)
	}
	want := "user-create: 100/250 done, 0 failed\nuser-create: 200/250 done, 0 failed\nuser-create: 250/250 done, 0 failed\n"
	if r.stderr != want {
		t.Fatalf("stderr %q\nwant   %q", r.stderr, want)
	}
	for _, w := range []string{"NAME  UID   PUBLIC KEY\nu000  3000  ssh-ed25519 AAAAu000\n", "u249  3049  ssh-ed25519 AAAAu249\n", "created 250, failed 0\n"} {
		if !strings.Contains(r.stdout, w) {
			t.Fatalf("stdout lacks %q:\n%s", w, r.stdout)
		}
	}
}

// TestBatchFailures: failed users are listed with their messages, the
// exit code is 8 (partial), and no token shows even when the host quotes one.
func TestBatchFailures(t *testing.T) {
	h := newBatchHost(t, "")
	file := usersFile(t, "ann", "bad1", "ben", "bad2", "cat")
	r := runCLI(t, nil, "--server", h.socket, "user-create", "--from", file, "--chunk", "2")
	if r.code != ExitPartial {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, w := range []string{"FAILED  ERROR\nbad1    groups: no such group (token [redacted])\nbad2", "created 3, failed 2\n"} {
		if !strings.Contains(r.stdout, w) {
			t.Fatalf("stdout lacks %q:\n%s", w, r.stdout)
		}
	}
	if !strings.HasSuffix(r.stderr, "error: 2 of 5 users were not created\n") || !strings.Contains(r.stderr, "5/5 done, 2 failed") {
		t.Fatalf("stderr: %s", r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, secretToken) {
		t.Fatalf("token printed:\n%s%s", r.stdout, r.stderr)
	}
	r = runCLI(t, nil, "--json", "--server", h.socket, "user-create", "--from", file, "--chunk", "2")
	var res api.UserCreateBatchResult
	if r.code != ExitPartial || json.Unmarshal([]byte(r.stdout), &res) != nil || res.Created != 3 || res.Failed != 2 || len(res.Results) != 5 {
		t.Fatalf("--json: exit %d\n%s", r.code, r.stdout)
	}
	if strings.Contains(r.stdout, secretToken) {
		t.Fatalf("--json prints the token:\n%s", r.stdout)
	}
}

// TestBatchStopsOnCallError: a chunk that fails as a whole stops the
// batch: the chunk already in flight after it finishes, no later one is
// sent; what was created is still shown, and the error says where.
func TestBatchStopsOnCallError(t *testing.T) {
	h := newBatchHost(t, "u002")
	r := runCLI(t, nil, "--server", h.socket, "user-create", "--from", usersFile(t, names("u", 9)...), "--chunk", "2")
	if got := h.sent(); r.code != ExitUnreachable || !slices.Equal(got, []string{"u000+2", "u002+2", "u004+2"}) {
		t.Fatalf("exit %d after calls %v: %s", r.code, got, r.stderr)
	}
	if !strings.Contains(r.stdout, "created 4, failed 0") || !strings.Contains(r.stdout, "u005") || strings.Contains(r.stdout, "u002") ||
		!strings.Contains(r.stderr, "stopped after 4 of 9 users: the call for a chunk failed") ||
		!strings.HasSuffix(r.stderr, "error: accounts plugin unavailable\n") {
		t.Fatalf("stdout: %s\nstderr: %s", r.stdout, r.stderr)
	}
	h = newBatchHost(t, "ann")
	r = runCLI(t, nil, "--server", h.socket, "user-create", "--from", usersFile(t, "ann"))
	if r.code != ExitUnreachable || r.stdout != "" || r.stderr != "error: accounts plugin unavailable\n" {
		t.Fatalf("first call fails: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, nil, "--server", filepath.Join(shortDir(t), "none.sock"), "user-create", "--from", usersFile(t, "ann"))
	if r.code != ExitUnreachable || r.stdout != "" {
		t.Fatalf("no host: exit %d: %s", r.code, r.stderr)
	}
}

// TestBatchBadFileCallsNothing: a bad file is exit 2 with its line
// numbers, and not one user is sent.
func TestBatchBadFileCallsNothing(t *testing.T) {
	h := newBatchHost(t, "")
	path := filepath.Join(shortDir(t), "users.csv")
	os.WriteFile(path, []byte("name,uid\nann,1\nben,x\n"), 0o600)
	r := runCLI(t, nil, "--server", h.socket, "user-create", "--from", path)
	want := path + ": 1 problem; nothing was created:\n  line 3: uid: \"x\" is not a positive number"
	if r.code != ExitUsage || !strings.Contains(r.stderr, want) || len(h.sent()) != 0 {
		t.Fatalf("exit %d, calls %v:\n%s", r.code, h.sent(), r.stderr)
	}
	r = runCLI(t, map[string]string{"_STDIN": "name\nann\n"}, "--server", h.socket, "user-create", "--from", "-")
	if r.code != ExitOK || !slices.Equal(h.sent(), []string{"ann+1"}) {
		t.Fatalf("--from -: exit %d: %s", r.code, r.stderr)
	}
}

// TestBatchBarOnTerminal: on a terminal the bar is redrawn in place and
// its line ended before anything else is written.
func TestBatchBarOnTerminal(t *testing.T) {
	old := isTerminal
	isTerminal = func(io.Writer) bool { return true }
	t.Cleanup(func() { isTerminal = old })
	h := newBatchHost(t, "")
	r := runCLI(t, nil, "--server", h.socket, "user-create", "--from", usersFile(t, names("u", 4)...), "--chunk", "2")
	want := "\r[                              ] 0/4\r[###############               ] 2/4\r[##############################] 4/4\n"
	if r.code != ExitOK || r.stderr != want {
		t.Fatalf("exit %d, stderr %q\nwant %q", r.code, r.stderr, want)
	}
}
