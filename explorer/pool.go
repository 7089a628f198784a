package explorer

import "fmt"

// Pool integrates lanes on other threads: in the browser, Web Workers that each run a
// [Worker] (wasm/worker). A lane of many particles is cut into contiguous slices, one
// per worker; each worker integrates its slice step by step and sends every step back,
// and the lane commits a frame once all slices have delivered it. Every particle is
// independent and the workers run the same code as the page, so the frames are
// bit-identical to integrating the whole lane in one place.
//
// A pool is used from the app's goroutine only; results that arrive in between (on
// JavaScript callbacks) are queued by the pool and handed over by Poll.
type Pool interface {
	// Workers is how many workers the pool has; 0 turns it off.
	Workers() int
	// Start sends job to worker w (0 ≤ w < Workers()). Its frames come back through Poll.
	Start(w int, job Job)
	// Cancel tells worker w to stop job id; frames already on their way may still come.
	Cancel(w int, id int)
	// Poll appends the results that arrived since the last call to dst.
	Poll(dst []Result) []Result
}

// Job is work for a worker. Of Kind [KindIntegrate] ("" is one too), it is one
// worker's slice of a lane: positions X0 (n×d, data space) integrated with Model's field
// from T0 to T1 in Steps equal steps of Method. Of Kind [KindTrain], it trains a network
// on Train's points (the "Your data" mode). A worker answers a kind it does not know
// with an error [Result].
type Job struct {
	ID     int
	Kind   string
	Model  string // the model's manifest name; the pool has sent the worker its file
	Method string
	Steps  int
	T0, T1 float64
	X0     []float32
	Train  *TrainSpec // KindTrain: what to train on and how
	// KindImages: the class of each row of X0 and the guidance weight (imagerun.go).
	Labels   []int
	Guidance float64
}

// Result is one step of a job: the positions after Step steps, or an error (the worker
// failed, could not load the model, or does not know the job's kind), after which no
// more results of the job come. A [GoPool] reports a model file its workers could not
// read as an error of job −1, no job's (the app drops it).
type Result struct {
	ID   int
	Step int
	X    []float32
	Err  error

	// A training job's progress (KindTrain): Step is the optimiser steps taken, Loss
	// the smoothed loss, Seconds the time spent training; File, now and then and at the
	// end, is a model file of the EMA weights so far (weights.Encode's bytes).
	Loss    float64
	Seconds float64
	File    []byte

	// Clean is an images job's predicted clean images x̂₁ at the start of step Step
	// (KindImages), beside X, the images after it.
	Clean []float32
}

// Holder is a [Pool] whose workers can hold a job between two of its steps and take it
// up again: how a training job pauses and resumes.
type Holder interface {
	Hold(w, id int, hold bool)
}

// ModelPool is a [Pool] whose workers are sent the model files the app loads: a
// [GoPool] on the desktop, the page's Web Workers in the browser (wasm/pool_js.go).
type ModelPool interface {
	Pool
	// AddModel sends a model file to every worker, before any job that needs it. It
	// may be called from any goroutine (the app's loader, say).
	AddModel(name string, file []byte)
}

// DecodeShared decodes a model file for the app as [DecodeModel] does and, when it
// decodes, sends it to pool's workers too (pool nil: there are none): what a front end's
// Config.Load does with each file it reads.
func DecodeShared(pool ModelPool, e Entry, file []byte) (*Model, error) {
	m, err := DecodeModel(e.Name, e.Dataset, file)
	if err == nil && pool != nil {
		pool.AddModel(e.Name, file)
	}
	return m, err
}

// minFarmed is the fewest particles per worker worth sending away: below it the messages
// and the wait for the slowest worker cost more than computing in the page.
const minFarmed = 256

// farm is a lane's share-out over a pool.
type farm struct {
	pool    Pool
	slices  []farmSlice
	partial map[int][]float32 // step → positions, filled slice by slice
	filled  map[int]int       // step → slices delivered
}

type farmSlice struct {
	id, worker int
	from, to   int // rows
	step       int // the last step delivered
}

// Farm hands the lane's remaining work to pool, one contiguous slice of particles per
// worker, if the lane is large enough to gain from it. ids gives a fresh job id per call.
// It reports whether the lane was farmed out.
func (l *Lane) Farm(pool Pool, model string, ids func() int) bool {
	if pool == nil || l.Done() || l.farm != nil || l.t0 == l.t1 || len(l.frames) != 1 || l.rows != 0 {
		return false
	}
	w := min(pool.Workers(), l.n/minFarmed)
	if w < 1 {
		return false
	}
	fm := &farm{pool: pool, partial: map[int][]float32{}, filled: map[int]int{}}
	for i := 0; i < w; i++ {
		from, to := i*l.n/w, (i+1)*l.n/w
		s := farmSlice{id: ids(), worker: i, from: from, to: to}
		fm.slices = append(fm.slices, s)
		pool.Start(i, Job{ID: s.id, Kind: KindIntegrate, Model: model, Method: l.method, Steps: l.steps, T0: l.t0, T1: l.t1,
			X0: l.frames[0][from*l.d : to*l.d]})
	}
	l.farm, l.workers = fm, w
	return true
}

// Farmed reports whether the lane's work is being done by a pool.
func (l *Lane) Farmed() bool { return l.farm != nil }

// Workers is the number of pool workers the lane was shared among (0: computed here,
// including after a pool failed, see PoolErr).
func (l *Lane) Workers() int { return l.workers }

// PoolErr says why a farmed lane came back to be computed here ("" if it did not).
func (l *Lane) PoolErr() string { return l.poolErr }

// Deliver takes in a result of one of the lane's jobs and commits every frame that is
// complete. An error result, or one that does not fit, takes the lane back from the pool:
// it goes on computing locally from its last complete frame. Deliver reports whether
// the result was one of the lane's.
func (l *Lane) Deliver(r Result) bool {
	fm := l.farm
	if fm == nil {
		return false
	}
	si := -1
	for i, s := range fm.slices {
		if s.id == r.ID {
			si = i
		}
	}
	if si < 0 {
		return false
	}
	s := &fm.slices[si]
	n := (s.to - s.from) * l.d
	switch {
	case r.Err != nil:
		l.poolErr = fmt.Sprintf("worker %d: %v", s.worker, r.Err)
		l.Unfarm()
		return true
	case r.Step != s.step+1 || len(r.X) != n || r.Step > l.steps:
		l.poolErr = fmt.Sprintf("worker %d sent step %d with %d values, want step %d with %d", s.worker, r.Step, len(r.X), s.step+1, n)
		l.Unfarm()
		return true
	}
	s.step = r.Step
	buf := fm.partial[r.Step]
	if buf == nil {
		buf = make([]float32, l.n*l.d)
		fm.partial[r.Step] = buf
	}
	copy(buf[s.from*l.d:], r.X)
	fm.filled[r.Step]++
	for {
		k := len(l.frames)
		if fm.filled[k] < len(fm.slices) {
			break
		}
		l.commit(fm.partial[k], k)
		delete(fm.partial, k)
		delete(fm.filled, k)
		if l.Done() {
			if l.err != nil {
				l.Unfarm() // stop the workers: the solution blew up
			}
			l.farm = nil
			break
		}
	}
	return true
}

// Unfarm cancels the lane's jobs in the pool; the lane then computes what is left
// itself (from its last complete frame) when Advance is called.
func (l *Lane) Unfarm() {
	if l.farm == nil {
		return
	}
	if !l.Done() {
		l.workers = 0
	}
	for _, s := range l.farm.slices {
		l.farm.pool.Cancel(s.worker, s.id)
	}
	l.farm = nil
}

// poolWorkers is the number of workers of the app's pool (0 without one).
func (a *App) poolWorkers() int {
	if a.cfg.Pool == nil {
		return 0
	}
	return a.cfg.Pool.Workers()
}
