package main

import (
	"slices"
	"sync"
	"time"
)

// result is one level against one server.
type result struct {
	rate     float64 // requests per second
	p50, p99 time.Duration
	errors   int
}

// warmup lets the clients open their connections and the runtime settle
// before anything is counted.
const warmup = 200 * time.Millisecond

// measure runs n keep-alive clients against sock for d after a warm-up,
// each on its own connection sending the health call back to back, and
// returns every latency, sorted, and the number of failed requests.
func measure(sock string, n int, d time.Duration) ([]time.Duration, int) {
	conns := make([]*conn, n)
	for i := range conns {
		c, err := dial(sock)
		if err != nil {
			return nil, n
		}
		defer c.Close()
		conns[i] = c
	}
	start := time.Now()
	from, until := start.Add(warmup), start.Add(warmup+d)
	lat := make([][]time.Duration, n)
	errs := make([]int, n)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			lat[i] = make([]time.Duration, 0, 1<<12)
			for {
				t0 := time.Now()
				if t0.After(until) {
					return
				}
				err := c.do()
				if t0.Before(from) {
					continue
				}
				if err != nil {
					errs[i]++
					return // the connection is in an unknown state
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		})
	}
	wg.Wait()
	all := slices.Concat(lat...)
	slices.Sort(all)
	failed := 0
	for _, e := range errs {
		failed += e
	}
	return all, failed
}

// summarise turns the latencies of d of measuring into a result.
func summarise(all []time.Duration, d time.Duration, failed int) result {
	slices.Sort(all)
	r := result{rate: float64(len(all)) / d.Seconds(), errors: failed}
	if len(all) > 0 {
		r.p50 = all[len(all)*50/100]
		r.p99 = all[len(all)*99/100]
	}
	return r
}

// rounds interleaves the two servers: each level is measured in short
// alternating slices, so a burst of load from elsewhere on the machine
// falls on both sides rather than on one.
const rounds = 4

// compare measures both servers at n clients for d each.
func compare(rpcSock, bareSock string, n int, d time.Duration) (r, b result) {
	slice := d / rounds
	var rl, bl []time.Duration
	var rf, bf int
	for i := range rounds {
		first, second := rpcSock, bareSock
		if i%2 == 1 {
			first, second = second, first
		}
		for _, sock := range []string{first, second} {
			lat, failed := measure(sock, n, slice)
			if sock == rpcSock {
				rl, rf = append(rl, lat...), rf+failed
			} else {
				bl, bf = append(bl, lat...), bf+failed
			}
		}
	}
	return summarise(rl, d, rf), summarise(bl, d, bf)
}
