// Package runs shares a batch's samples among goroutines: contiguous runs, one per
// worker, as the image networks' forward passes (unet, classifier) split a batch.
package runs

import "sync"

// Split cuts [0, n) into at most workers contiguous runs of ⌈n/workers⌉ samples and
// calls f(i, lo, hi) for run i on a goroutine of its own, returning when all are done.
// Run i always goes to the same f index i, so callers can keep scratch per worker.
func Split(n, workers int, f func(i, lo, hi int)) {
	workers = max(1, workers)
	per := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for i := range workers {
		lo, hi := i*per, min(n, (i+1)*per)
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i, lo, hi)
		}()
	}
	wg.Wait()
}
