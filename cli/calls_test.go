package cli

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

var created = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// TestOutputTableAndJSON: the same answer renders as a table for people
// and as the API's own JSON under --json.
func TestOutputTableAndJSON(t *testing.T) {
	f := newFakeHost(t, map[string]func(json.RawMessage) (any, *api.Error){
		api.MNodeList: fixed(api.NodeListResult{Nodes: []core.Node{
			{Name: "n1", Address: "400::1", Labels: map[string]string{"zone": "a", "gpu": "yes"}, Created: created},
			{Name: "n2", Address: "400::2"},
		}}),
		api.MHealth:       fixed(api.HealthResult{Status: "ok", Version: "1.2.3", UptimeSecs: 3725}),
		api.MWhitelistGet: fixed(api.Whitelist{Addresses: []string{}}),
		api.MGroupGet:     fixed(core.Group{Name: "devs", Members: []string{"alice", "bob"}, Created: created}),
	})
	for _, tc := range []struct {
		args  []string
		table []string // lines or fragments the table shows
		json  string   // a fragment of the JSON
	}{
		{[]string{"node-list"}, []string{"NAME  ADDRESS  LABELS", "n1    400::1   gpu=yes,zone=a", "n2    400::2   -"}, `"zone": "a"`},
		{[]string{"health"}, []string{"status:   ok", "version:  1.2.3", "uptime:   1h2m5s", "plugins:  none yet"}, `"uptime_secs": 3725`},
		{[]string{"whitelist-get"}, []string{"whitelist empty: the dashboard serves no data over TCP"}, `"addresses": []`},
		{[]string{"group-get", "devs"}, []string{"name:         devs", "members:      alice,bob", "gid:          -"}, `"members": [`},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"--server", f.socket}, tc.args...)...)
			if r.code != ExitOK {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			for _, want := range tc.table {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("table lacks %q:\n%s", want, r.stdout)
				}
			}
			r = runCLI(t, nil, append([]string{"--json", "--server", f.socket}, tc.args...)...)
			if r.code != ExitOK || !json.Valid([]byte(r.stdout)) || !strings.Contains(r.stdout, tc.json) {
				t.Fatalf("--json: exit %d, want valid JSON with %q:\n%s%s", r.code, tc.json, r.stdout, r.stderr)
			}
		})
	}
}

// TestCallErrorExitsUsage: a host's invalid params is exit 2 (a bad
// argument) with the message and the field, and nothing on stdout.
func TestCallErrorExitsUsage(t *testing.T) {
	f := newFakeHost(t, map[string]func(json.RawMessage) (any, *api.Error){
		api.MNodeAdd: func(json.RawMessage) (any, *api.Error) {
			return nil, api.FromError(core.InvalidField("name", "must start with a letter"))
		},
	})
	r := runCLI(t, nil, "--server", f.socket, "node-add", "9x", "400::1")
	if r.code != ExitUsage {
		t.Fatalf("exit %d, want 2: %s", r.code, r.stderr)
	}
	if r.stderr != "error: name: must start with a letter\n  field: name\n" || r.stdout != "" {
		t.Fatalf("stdout %q\nstderr %q", r.stdout, r.stderr)
	}
	r = runCLI(t, nil, "--server", f.socket, "rpc", "no.such.method")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "error: method not found") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}

// TestUnreachableExitsThree: no host is exit 3 with a hint that repeats
// the instance the user asked for.
func TestUnreachableExitsThree(t *testing.T) {
	home := shortDir(t)
	for _, tc := range []struct {
		args []string
		hint string
	}{
		{[]string{"health"}, "hero_codescalers --start"},
		{[]string{"--instance", "1", "node-list"}, "hero_codescalers --instance 1 --start"},
		{[]string{"--socket-dir", "/nonexistent/x", "stats"}, "hero_codescalers --socket-dir /nonexistent/x --start"},
		{[]string{"--server", home + "/none.sock", "rpc", "health"}, "at " + home + "/none.sock: is it running?"},
	} {
		r := runCLI(t, map[string]string{"HOME": home}, tc.args...)
		if r.code != ExitUnreachable {
			t.Fatalf("%v: exit %d, want 3: %s", tc.args, r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "cannot reach hero_codescalers at ") || !strings.Contains(r.stderr, tc.hint) {
			t.Fatalf("%v: hint lacks %q:\n%s", tc.args, tc.hint, r.stderr)
		}
	}
}

// TestRPCPassesParamsAndPrintsRawResult: rpc is the raw door, so what goes
// in and what comes out must be exactly the API's JSON.
func TestRPCPassesParamsAndPrintsRawResult(t *testing.T) {
	f := newFakeHost(t, map[string]func(json.RawMessage) (any, *api.Error){
		api.MNodeGet: func(p json.RawMessage) (any, *api.Error) { return map[string]any{"echo": p}, nil },
	})
	r := runCLI(t, map[string]string{"_STDIN": `{"name":"from-stdin"}`}, "--server", f.socket, "rpc", "node.get", "-")
	if r.code != ExitOK || r.stdout != "{\n  \"echo\": {\n    \"name\": \"from-stdin\"\n  }\n}\n" {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	runCLI(t, nil, "--server", f.socket, "rpc", "node.get", `{"name":"n1"}`)
	runCLI(t, nil, "--server", f.socket, "rpc", "node.get")
	_, params := f.record()
	if want := []string{`{"name":"from-stdin"}`, `{"name":"n1"}`, ""}; !slices.Equal(params, want) {
		t.Fatalf("params sent %q, want %q", params, want)
	}
}

// TestWhitelistEdits: add and remove are read-modify-write over get/set,
// write only when something changes, and match addresses by value.
func TestWhitelistEdits(t *testing.T) {
	list := []string{"400::1", "10.0.0.0/8"}
	f := newFakeHost(t, map[string]func(json.RawMessage) (any, *api.Error){
		api.MWhitelistGet: func(json.RawMessage) (any, *api.Error) { return api.Whitelist{Addresses: list}, nil },
		api.MWhitelistSet: func(p json.RawMessage) (any, *api.Error) {
			var w api.Whitelist
			json.Unmarshal(p, &w)
			list = w.Addresses
			return w, nil
		},
	})
	steps := []struct {
		args []string
		want []string
	}{
		{[]string{"whitelist-add", "400::2"}, []string{"400::1", "10.0.0.0/8", "400::2"}},
		{[]string{"whitelist-add", "400:0::1"}, []string{"400::1", "10.0.0.0/8", "400::2"}},
		{[]string{"whitelist-remove", "400:0:0::1"}, []string{"10.0.0.0/8", "400::2"}},
		{[]string{"whitelist-remove", "400::9"}, []string{"10.0.0.0/8", "400::2"}},
		{[]string{"whitelist-set", "400::7", "400::8"}, []string{"400::7", "400::8"}},
		{[]string{"whitelist-clear"}, []string{}},
	}
	for _, s := range steps {
		if r := runCLI(t, nil, append([]string{"--server", f.socket}, s.args...)...); r.code != ExitOK {
			t.Fatalf("%v: exit %d: %s", s.args, r.code, r.stderr)
		}
		if !slices.Equal(list, s.want) {
			t.Fatalf("%v: list %q, want %q", s.args, list, s.want)
		}
	}
	calls, _ := f.record()
	sets := 0
	for _, c := range calls {
		if c == api.MWhitelistSet {
			sets++
		}
	}
	if sets != 4 { // the no-op add and remove must not write
		t.Fatalf("%d sets, want 4: %v", sets, calls)
	}
}

// TestAuditListParamsAndCursor: the filters reach the host and the next
// page is offered as a command to paste.
func TestAuditListParamsAndCursor(t *testing.T) {
	f := newFakeHost(t, map[string]func(json.RawMessage) (any, *api.Error){
		api.MAuditList: fixed(api.AuditListResult{Next: "c2", Events: []core.AuditEvent{
			{Time: created, ActorUID: 1000, Method: "node.add", Target: "n1", Outcome: core.OutcomeOK, DurationMS: 1.25},
			{Time: created, ActorUID: 1001, Method: "node.add", Outcome: core.OutcomeError, Error: "node.add needs root",
				Count: 5321, Since: created.Add(-10 * time.Second)},
		}}),
	})
	r := runCLI(t, nil, "--server", f.socket, "audit-list", "--limit", "5", "--before", "c1", "--method", "node.add")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	_, params := f.record()
	if params[0] != `{"limit":5,"before":"c1","method":"node.add"}` {
		t.Fatalf("params %s", params[0])
	}
	for _, want := range []string{"node.add  n1      ok", "  1.2  -", "error ×5321 in 10s", "more: hero_codescalers audit-list --before c2"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("output lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestNodeAddLabelsAndGroupMembers: repeated and comma-separated flags
// arrive as the API's map and list.
func TestNodeAddLabelsAndGroupMembers(t *testing.T) {
	f := newFakeHost(t, map[string]func(json.RawMessage) (any, *api.Error){
		api.MNodeAdd:     fixed(core.Node{Name: "n1"}),
		api.MGroupCreate: fixed(core.Group{Name: "g"}),
	})
	runCLI(t, nil, "--server", f.socket, "node-add", "n1", "400::1", "--label", "a=1", "-l", "b=2")
	runCLI(t, nil, "--server", f.socket, "group-create", "g", "-d", "team", "--member", "alice,bob", "-m", "carol")
	_, params := f.record()
	want := []string{
		`{"name":"n1","address":"400::1","labels":{"a":"1","b":"2"}}`,
		`{"name":"g","description":"team","members":["alice","bob","carol"]}`,
	}
	if !slices.Equal(params, want) {
		t.Fatalf("params\n%q\nwant\n%q", params, want)
	}
}

// TestGroupSharedFlags: --shared and --quota reach group.create, --keep-data
// reaches group.delete, and --quota without --shared is a usage error
// that calls nothing.
func TestGroupSharedFlags(t *testing.T) {
	f := newFakeHost(t, map[string]func(json.RawMessage) (any, *api.Error){
		api.MGroupCreate: fixed(core.Group{Name: "g", Volume: "/home/groups/g", QuotaBytes: 50 << 30}),
		api.MGroupDelete: fixed(api.OK{OK: true}),
	})
	r := runCLI(t, nil, "--server", f.socket, "group-create", "g", "--shared", "--quota", "50G")
	if !strings.Contains(r.stdout, "shared volume:  /home/groups/g (quota 50G)") {
		t.Fatalf("group-create output:\n%s", r.stdout)
	}
	runCLI(t, nil, "--server", f.socket, "group-delete", "g", "--keep-data")
	if r := runCLI(t, nil, "--server", f.socket, "group-create", "g", "--quota", "1G"); r.code != ExitUsage || !strings.Contains(r.stderr, "add --shared") {
		t.Fatalf("--quota alone: exit %d: %s", r.code, r.stderr)
	}
	_, params := f.record()
	want := []string{`{"name":"g","shared":true,"quota":"50G"}`, `{"name":"g","keep_data":true}`}
	if !slices.Equal(params, want) {
		t.Fatalf("params\n%q\nwant\n%q", params, want)
	}
}

// TestStatsShowsSteps: the host's step times are shown as a table of
// counts and mean durations, sorted by step.
func TestStatsShowsSteps(t *testing.T) {
	f := newFakeHost(t, map[string]func(json.RawMessage) (any, *api.Error){
		api.MStats: fixed(api.StatsResult{Version: "v", Steps: map[string]api.StepTime{
			"create.volume": {Count: 4, TotalMS: 4.4}, "create.account": {Count: 2, TotalMS: 36},
		}}),
	})
	r := runCLI(t, nil, "--server", f.socket, "stats")
	want := "STEP            COUNT  MEAN\ncreate.account  2      18.00 ms\ncreate.volume   4      1.10 ms\n"
	if r.code != ExitOK || !strings.HasSuffix(r.stdout, want) {
		t.Fatalf("exit %d:\n%s\nwant it to end with:\n%s", r.code, r.stdout, want)
	}
}
