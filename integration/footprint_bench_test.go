//go:build integration

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
)

// footprintGoalMB is issue 15's goal for a node outside any fleet: the
// host and every plugin process together, in PSS.
const footprintGoalMB = 100

// TestBenchFootprint is issue 15's idle footprint row of `make bench`: a
// host outside any fleet, with the plugins it picks on this machine, does a
// little work (20 creates and their deletes: Badger, the journal and every
// plugin have run), then idles; once the total PSS of the host and its
// plugin processes (/proc/PID/smaps_rollup) holds still, each process's PSS
// and RSS and the total are printed against the goal.
//
//	HC_BENCH=1 go test -count=1 -tags integration -run TestBenchFootprint -v ./integration/
func TestBenchFootprint(t *testing.T) {
	if os.Getenv("HC_BENCH") == "" {
		t.Skip("a benchmark: set HC_BENCH=1 (make bench does)")
	}
	sandbox.Require(t)
	ensureDriver(t)
	mustRun(t, "btrfs", "quota", "enable", "/home")
	h := newHost(t, buildTree(t, ""))
	h.start()
	started := footprint(t, h.cmd.Process.Pid)
	_, pub := clientKey(t)
	for i := range 20 {
		h.mustCLI("user-create", lcName("fpb", i), "--ssh-key-file", pub, "--quota", "100M")
	}
	for i := range 20 {
		h.mustCLI("user-delete", lcName("fpb", i))
	}
	idle := settledFootprint(t, h.cmd.Process.Pid)
	fmt.Printf("\nidle footprint of a node outside any fleet (%s)\n", time.Now().Format("2006-01-02"))
	fmt.Printf("%-28s %10s %10s %14s\n", "process", "PSS", "RSS", "PSS at start")
	for _, p := range idle {
		at := "-"
		if i := slices.IndexFunc(started, func(s procMem) bool { return s.name == p.name }); i >= 0 {
			at = fmt.Sprintf("%.1f MB", started[i].pss)
		}
		fmt.Printf("%-28s %7.1f MB %7.1f MB %14s\n", p.name, p.pss, p.rss, at)
		if testing.Verbose() && os.Getenv("HC_BENCH_MAPS") != "" {
			fmt.Print(topMappings(p.pid))
		}
	}
	pss, rss := memTotal(idle)
	fmt.Printf("%-28s %7.1f MB %7.1f MB %11.1f MB\n", "total", pss, rss, func() float64 { s, _ := memTotal(started); return s }())
	fmt.Printf("  goal (issue 15): idle PSS of the host and its plugins <= %d MB: %.1f MB (at start: %.1f MB) — %s\n", footprintGoalMB, pss, func() float64 { s, _ := memTotal(started); return s }(), met(pss <= footprintGoalMB))
}

// procMem is one process's memory, in MB.
type procMem struct {
	name     string
	pid      int
	pss, rss float64
}

func memTotal(ps []procMem) (pss, rss float64) {
	for _, p := range ps {
		pss, rss = pss+p.pss, rss+p.rss
	}
	return pss, rss
}

// settledFootprint samples the footprint every second until its total PSS
// moved less than 1% over the last three samples (the Go runtime hands
// freed memory back in the background), or 30 s passed.
func settledFootprint(t *testing.T, pid int) []procMem {
	t.Helper()
	var last []float64
	deadline := time.Now().Add(30 * time.Second)
	for {
		ps := footprint(t, pid)
		pss, _ := memTotal(ps)
		last = append(last, pss)
		if n := len(last); n >= 3 {
			lo, hi := slices.Min(last[n-3:]), slices.Max(last[n-3:])
			if hi-lo < hi/100 || time.Now().After(deadline) {
				return ps
			}
		}
		time.Sleep(time.Second) // a sampling interval, not a wait for a state
	}
}

// footprint reads the PSS and RSS of pid and of its descendants (the
// plugins), named by their executable.
func footprint(t *testing.T, pid int) []procMem {
	t.Helper()
	var out []procMem
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = append(queue[1:], descendants(p)...)
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", p))
		if err != nil {
			continue
		}
		m := procMem{name: strconv.Itoa(p), pid: p}
		if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", p)); err == nil {
			m.name = filepath.Base(exe)
			if strings.Contains(exe, "/plugins/") {
				m.name = "plugins/" + m.name
			}
		}
		for _, l := range strings.Split(string(b), "\n") {
			f := strings.Fields(l)
			if len(f) < 2 {
				continue
			}
			v, _ := strconv.ParseFloat(f[1], 64)
			switch f[0] {
			case "Pss:":
				m.pss = v / 1024
			case "Rss:":
				m.rss = v / 1024
			}
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		t.Fatalf("no process to measure under pid %d", pid)
	}
	return out
}

// descendants lists pid's children from /proc.
func descendants(pid int) []int {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var kids []int
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, w := range strings.Fields(string(b)) {
			if k, err := strconv.Atoi(w); err == nil {
				kids = append(kids, k)
			}
		}
	}
	return kids
}

// topMappings sums pid's PSS by mapping (file path, or [heap], anon), for
// a verbose run's log: where the footprint lies.
func topMappings(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return err.Error()
	}
	sums := map[string]float64{}
	name := ""
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":"):
			name = "anon"
			if len(f) >= 6 {
				name = f[5]
			}
		case len(f) >= 2 && f[0] == "Pss:":
			v, _ := strconv.ParseFloat(f[1], 64)
			sums[name] += v / 1024
		}
	}
	type kv struct {
		k string
		v float64
	}
	var list []kv
	for k, v := range sums {
		list = append(list, kv{k, v})
	}
	slices.SortFunc(list, func(a, b kv) int { return int(b.v*1000 - a.v*1000) })
	var out strings.Builder
	for i, e := range list {
		if i == 8 || e.v < 0.5 {
			break
		}
		fmt.Fprintf(&out, "    %7.1f MB %s\n", e.v, e.k)
	}
	return out.String()
}
