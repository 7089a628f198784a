package explorer

import "fmt"

// imageFarm is an image run's share-out over a pool: one contiguous slice of the grid's
// rows per worker, as a lane's farm, with the clean images beside the positions.
type imageFarm struct {
	pool    Pool
	slices  []farmSlice
	partial map[int][]float32 // step → images, filled slice by slice
	clean   map[int][]float32 // step → x̂₁ at the step's start
	filled  map[int]int       // step → slices delivered
}

// Farm hands the run's work to pool, one contiguous slice of images per worker (every
// worker gets at least one), model being the model's name the pool's workers know. ids
// gives a fresh job id per call. It reports whether the run was farmed out.
func (r *ImageRun) Farm(pool Pool, model string, ids func() int) bool {
	if pool == nil || r.Done() || r.farm != nil || len(r.frames) != 1 || r.next != nil {
		return false
	}
	w := min(pool.Workers(), r.n)
	if w < 1 {
		return false
	}
	fm := &imageFarm{pool: pool, partial: map[int][]float32{}, clean: map[int][]float32{}, filled: map[int]int{}}
	for i := 0; i < w; i++ {
		from, to := i*r.n/w, (i+1)*r.n/w
		s := farmSlice{id: ids(), worker: i, from: from, to: to}
		fm.slices = append(fm.slices, s)
		pool.Start(i, Job{ID: s.id, Kind: KindImages, Model: model, Method: r.method, Steps: r.steps, T0: r.t0, T1: r.t1,
			X0: r.frames[0][from*r.d : to*r.d], Labels: r.labels[from:to], Guidance: r.guidance})
	}
	r.farm, r.workers = fm, w
	return true
}

// Farmed reports whether a pool is doing the run's work.
func (r *ImageRun) Farmed() bool { return r.farm != nil }

// Deliver takes in a result of one of the run's jobs and commits every step that is
// complete. An error, or a result that does not fit, takes the run back from the pool:
// it goes on here from its last complete step. It reports whether r was the run's.
func (r *ImageRun) Deliver(res Result) bool {
	fm := r.farm
	if fm == nil {
		return false
	}
	si := -1
	for i, s := range fm.slices {
		if s.id == res.ID {
			si = i
		}
	}
	if si < 0 {
		return false
	}
	s := &fm.slices[si]
	n := (s.to - s.from) * r.d
	switch {
	case res.Err != nil:
		r.poolErr = fmt.Sprintf("worker %d: %v", s.worker, res.Err)
		r.Unfarm()
		return true
	case res.Step != s.step+1 || len(res.X) != n || len(res.Clean) != n || res.Step > r.steps:
		r.poolErr = fmt.Sprintf("worker %d sent step %d with %d and %d values, want step %d with %d", s.worker, res.Step, len(res.X), len(res.Clean), s.step+1, n)
		r.Unfarm()
		return true
	}
	s.step = res.Step
	for _, m := range []map[int][]float32{fm.partial, fm.clean} {
		if m[res.Step] == nil {
			m[res.Step] = make([]float32, r.n*r.d)
		}
	}
	copy(fm.partial[res.Step][s.from*r.d:], res.X)
	copy(fm.clean[res.Step][s.from*r.d:], res.Clean)
	fm.filled[res.Step]++
	for k := len(r.frames); fm.filled[k] == len(fm.slices); k = len(r.frames) {
		r.commit(fm.partial[k], fm.clean[k], k)
		delete(fm.partial, k)
		delete(fm.clean, k)
		delete(fm.filled, k)
		if r.Done() {
			if r.err != nil {
				r.Unfarm()
			}
			r.farm = nil
			break
		}
	}
	return true
}

// Unfarm cancels the run's jobs in the pool; what is left is then computed here.
func (r *ImageRun) Unfarm() {
	if r.farm == nil {
		return
	}
	if !r.Done() {
		r.workers = 0
	}
	for _, s := range r.farm.slices {
		r.farm.pool.Cancel(s.worker, s.id)
	}
	r.farm = nil
}

// imageTask is a worker's share of an image run ([KindImages]), a step at a time.
type imageTask struct {
	id  int
	run *ImageRun
}

// startImages checks an images job and adds it to the worker's runs.
func (w *Worker) startImages(job Job) error {
	m := w.models[job.Model]
	if m == nil {
		return fmt.Errorf("model %s was not sent to this worker", job.Model)
	}
	net, err := m.UNet()
	if err != nil {
		return fmt.Errorf("job %d: %w", job.ID, err)
	}
	r, err := NewImageRun(net, job.Method, job.Steps, job.T0, job.T1, job.X0, job.Labels, job.Guidance)
	if err != nil {
		return fmt.Errorf("job %d: %w", job.ID, err)
	}
	w.runs = append(w.runs, &imageTask{id: job.ID, run: r})
	return nil
}

func (t *imageTask) jobID() int { return t.id }

// advance takes the next step of all the task's rows and sends the images after it with
// the clean images at its start.
func (t *imageTask) advance(emit func(Result)) bool {
	r := t.run
	k := r.Computed()
	r.Advance(r.N() * r.EvalsPerStep())
	emit(Result{ID: t.id, Step: k, X: r.Frame(k), Clean: r.clean[k-1]})
	return r.Done()
}
