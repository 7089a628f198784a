package explorer

import (
	"fmt"

	"github.com/flowmatch/flowmatch/sampler"
)

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

// Job is one worker's slice of a lane: positions X0 (n×d, data space) integrated with
// Model's field from T0 to T1 in Steps equal steps of Method.
type Job struct {
	ID     int
	Model  string // the model's manifest name; the pool has sent the worker its file
	Method string
	Steps  int
	T0, T1 float64
	X0     []float32
}

// Result is one step of a job: the positions after Step steps, or an error (the worker
// failed or could not load the model), after which no more results of the job come.
type Result struct {
	ID   int
	Step int
	X    []float32
	Err  error
}

// minFarmed is the fewest particles per worker worth sending away: below it the messages
// and the wait for the slowest worker cost more than computing in the page.
const minFarmed = 256

// Worker is the far side of a [Pool]: the models it has been sent and the runs it is
// integrating. The browser runs one per Web Worker (wasm/worker); [GoPool] runs them on
// goroutines. A worker takes one step of each of its runs in turn, so that panels side
// by side advance together.
type Worker struct {
	models map[string]*Model
	runs   []*run
}

// NewWorker returns a worker with no models.
func NewWorker() *Worker { return &Worker{models: map[string]*Model{}} }

// AddModel decodes a model file and keeps it under name (the manifest's name).
func (w *Worker) AddModel(name string, b []byte) error {
	m, err := DecodeModel(name, "", b)
	if err == nil {
		err = m.Check()
	}
	if err != nil {
		return fmt.Errorf("model %s: %w", name, err)
	}
	w.models[name] = m
	return nil
}

// run is a job being integrated, a step at a time.
type run struct {
	job    Job
	field  sampler.Field
	solver *sampler.Solver
	d      int
	x      []float32
	k      int // steps taken
}

// Start checks a job and adds it to the worker's runs; Round takes its steps.
func (w *Worker) Start(job Job) error {
	m := w.models[job.Model]
	if m == nil {
		return fmt.Errorf("model %s was not sent to this worker", job.Model)
	}
	s, err := sampler.NewSolver(sampler.Options{Method: job.Method})
	if err != nil {
		return err
	}
	if job.Steps < 1 {
		return fmt.Errorf("job %d: %d steps, want at least 1", job.ID, job.Steps)
	}
	d := m.Field.Dim()
	if len(job.X0)%d != 0 {
		return fmt.Errorf("job %d: %d values is not a whole number of %d-dimensional points", job.ID, len(job.X0), d)
	}
	w.runs = append(w.runs, &run{job: job, field: m.dataSpaceField(), solver: s, d: d, x: append([]float32(nil), job.X0...)})
	return nil
}

// Busy reports whether any run has steps left.
func (w *Worker) Busy() bool { return len(w.runs) > 0 }

// Round takes one step of each run in turn, so that panels side by side advance
// together, and calls emit with the run's id, the step's number (1 for the first) and
// the positions after it (valid during the call). Runs for which drop returns true (the
// cancelled ones) are dropped first; finished runs are dropped after their last step.
func (w *Worker) Round(drop func(id int) bool, emit func(id, step int, x []float32)) {
	live := w.runs[:0]
	for _, r := range w.runs {
		if drop(r.job.ID) {
			continue
		}
		r.step()
		emit(r.job.ID, r.k, r.x)
		if r.k < r.job.Steps {
			live = append(live, r)
		}
	}
	clear(w.runs[len(live):])
	w.runs = live
}

// step takes the next step.
func (r *run) step() {
	j := r.job
	t, t1 := gridTime(j.T0, j.T1, j.Steps, r.k), gridTime(j.T0, j.T1, j.Steps, r.k+1)
	// In chunks no larger than a Lane's, so that each row sees the same code.
	for i := 0; i < len(r.x); i += laneChunk * r.d {
		r.solver.Step(r.field, r.x[i:min(len(r.x), i+laneChunk*r.d)], t, t1-t)
	}
	r.k++
}

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
		pool.Start(i, Job{ID: s.id, Model: model, Method: l.method, Steps: l.steps, T0: l.t0, T1: l.t1,
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
