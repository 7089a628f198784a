package sampler

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Work sharing across cores. A call with a large batch cuts its rows into chunks of
// whole blocks; the calling goroutine and up to GOMAXPROCS−1 helper goroutines claim
// chunks from an atomic counter (so a core slowed by other work takes fewer), each with
// its own workspace. The helpers are package-wide, started on first need and parked on
// a channel between calls; handing out work allocates nothing. Under js/wasm
// GOMAXPROCS is 1 and everything runs on the caller.

const (
	opVelocity = iota
	opJVP
	opDiv
)

const (
	minBlocksPerWorker = 3 // below this a helper costs more than it saves
	chunksPerWorker    = 4 // finer chunks balance load on a busy machine
)

// job is one call's arguments and its work-sharing state; each MLP owns one.
type job struct {
	m                  *MLP
	op                 int
	x, dst, v, jv, div []float32
	n                  int // rows
	chunkRows, chunks  int
	next               atomic.Int64
	wg                 sync.WaitGroup
}

func (j *job) set(op int, x, dst, v, jv, div []float32) {
	j.op, j.x, j.dst, j.v, j.jv, j.div = op, x, dst, v, jv, div
	j.n = len(x) / j.m.spec.Dim
}

// start runs the current job at time t, spread over workers when it is large enough.
func (m *MLP) start(t float64) {
	j := &m.job
	m.spec.Time.Features(m.tfea, t)
	tangents := j.op != opVelocity
	blocks := (j.n + blockRows - 1) / blockRows
	workers := min(runtime.GOMAXPROCS(0), blocks/minBlocksPerWorker)
	if workers <= 1 {
		m.rows(m.workspace(0, tangents), 0, j.n)
		j.x, j.dst, j.v, j.jv, j.div = nil, nil, nil, nil, nil
		return
	}
	for w := 0; w < workers; w++ {
		m.workspace(w, tangents)
	}
	j.chunks = min(blocks, workers*chunksPerWorker)
	j.chunkRows = (blocks + j.chunks - 1) / j.chunks * blockRows
	j.chunks = (j.n + j.chunkRows - 1) / j.chunkRows
	j.next.Store(0)
	startHelpers(workers - 1)
	j.wg.Add(workers - 1)
	for w := 1; w < workers; w++ {
		helperTasks <- task{j, w}
	}
	j.work(0)
	j.wg.Wait()
	j.x, j.dst, j.v, j.jv, j.div = nil, nil, nil, nil, nil
}

// work claims and evaluates chunks with worker w's scratch until none are left.
func (j *job) work(w int) {
	ws := j.m.ws[w]
	for {
		c := int(j.next.Add(1)) - 1
		if c >= j.chunks {
			return
		}
		lo := c * j.chunkRows
		j.m.rows(ws, lo, min(lo+j.chunkRows, j.n))
	}
}

type task struct {
	j *job
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
