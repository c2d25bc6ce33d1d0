package core

import "sync"

// onPool runs do(i) for each i in 0..n-1 on at most workers goroutines,
// and returns once every call has.
func onPool(workers, n int, do func(i int)) {
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := range work {
				do(i)
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}
