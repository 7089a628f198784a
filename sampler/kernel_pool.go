package sampler

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Work sharing across cores, for any network. A call with a large batch cuts its rows
// into chunks of whole units (a network's block of rows); the calling goroutine and up
// to GOMAXPROCS−1 helper goroutines claim chunks from an atomic counter (so a core
// slowed by other work takes fewer), each worker with scratch of its own. The helpers
// are package-wide, started on first need and parked on a channel between calls; a
// network owns its rowJob, so handing out work allocates nothing. Under js/wasm
// GOMAXPROCS is 1 and everything runs on the caller.

// rower is work over the rows of a batch. rows evaluates rows [lo, hi) with worker
// w's scratch; workers run it at the same time on disjoint rows, so what it writes for
// a row must depend on that row alone (then the result does not depend on the split).
type rower interface {
	rows(w, lo, hi int)
}

const (
	minUnitsPerWorker = 3 // below this a helper costs more than it saves
	chunksPerWorker   = 4 // finer chunks balance load on a busy machine
)

// workersFor is how many workers (the caller included) a batch of n rows is worth when
// work comes in units of unit rows. A network readies that many workers' scratch
// before rowJob.run.
func workersFor(n, unit int) int {
	units := (n + unit - 1) / unit
	return max(1, min(runtime.GOMAXPROCS(0), units/minUnitsPerWorker))
}

// rowJob is one call's work-sharing state.
type rowJob struct {
	r                 rower
	n                 int // rows
	chunkRows, chunks int
	next              atomic.Int64
	wg                sync.WaitGroup
}

// run evaluates rows [0, n) of r over workers workers (worker 0 is the caller), in
// chunks of whole units of unit rows, and returns when every row is done.
func (j *rowJob) run(r rower, n, unit, workers int) {
	if workers <= 1 {
		r.rows(0, 0, n)
		return
	}
	units := (n + unit - 1) / unit
	j.r, j.n = r, n
	j.chunks = min(units, workers*chunksPerWorker)
	j.chunkRows = (units + j.chunks - 1) / j.chunks * unit
	j.chunks = (n + j.chunkRows - 1) / j.chunkRows
	j.next.Store(0)
	startHelpers(workers - 1)
	j.wg.Add(workers - 1)
	for w := 1; w < workers; w++ {
		helperTasks <- task{j, w}
	}
	j.work(0)
	j.wg.Wait()
	j.r = nil
}

// work claims and evaluates chunks as worker w until none are left.
func (j *rowJob) work(w int) {
	for {
		c := int(j.next.Add(1)) - 1
		if c >= j.chunks {
			return
		}
		lo := c * j.chunkRows
		j.r.rows(w, lo, min(lo+j.chunkRows, j.n))
	}
}

type task struct {
	j *rowJob
	w int
}

var (
	helperMu    sync.Mutex
	helperCount int
	helperTasks = make(chan task, 256)
)

// startHelpers makes sure at least n helper goroutines are running.
func startHelpers(n int) {
	helperMu.Lock()
	for helperCount < n {
		helperCount++
		go helper()
	}
	helperMu.Unlock()
}

func helper() {
	for t := range helperTasks {
		t.j.work(t.w)
		t.j.wg.Done()
	}
}
