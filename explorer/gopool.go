package explorer

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// GoPool is a [Pool] of goroutines, each running a [Worker]: what the desktop build uses,
// so that particles are integrated between frames as well as during them, as Web
// Workers do in the browser. Close stops it.
type GoPool struct {
	ResultQueue
	mu     sync.Mutex // guards cancel and closed
	jobs   []chan Job
	models []chan modelFile
	cancel map[int]bool
	closed bool
	wg     sync.WaitGroup
}

type modelFile struct {
	name string
	b    []byte
}

// NewGoPool starts n workers (at least one). Natively the sampler spreads each batch over
// the cores itself, so one worker already keeps them all busy.
func NewGoPool(n int) *GoPool {
	p := &GoPool{cancel: map[int]bool{}}
	for i := 0; i < max(n, 1); i++ {
		jobs, models := make(chan Job, 64), make(chan modelFile, 64)
		p.jobs, p.models = append(p.jobs, jobs), append(p.models, models)
		p.wg.Add(1)
		go p.work(jobs, models)
	}
	return p
}

// work is one worker: models and jobs in the order they were sent, as a Web Worker
// takes its messages, and a step of each run in turn.
func (p *GoPool) work(jobs chan Job, models chan modelFile) {
	defer p.wg.Done()
	w := NewWorker()
	add := func(m modelFile) {
		if err := w.AddModel(m.name, m.b); err != nil {
			p.Push(Result{ID: -1, Err: err}) // no job's: the app drops it
		}
	}
	take := func(job Job) {
		// Models sent before the job are in by now.
		for len(models) > 0 {
			add(<-models)
		}
		if err := w.Start(job); err != nil {
			p.Push(Result{ID: job.ID, Err: err})
		}
	}
	for {
		if !w.Busy() {
			select {
			case m := <-models:
				add(m)
			case job, ok := <-jobs:
				if !ok {
					return
				}
				take(job)
			}
			continue
		}
	more:
		for {
			select {
			case job, ok := <-jobs:
				if !ok {
					return
				}
				take(job)
			default:
				break more
			}
		}
		w.Round(p.dropCancelled, func(id, k int, x []float32) {
			p.Push(Result{ID: id, Step: k, X: append([]float32(nil), x...)})
		})
		// Where goroutines are not preempted (js/wasm), let the app's run between rounds.
		runtime.Gosched()
	}
}

// dropCancelled reports whether run id was cancelled (or the pool closed), forgetting
// the cancel: the run is dropped then.
func (p *GoPool) dropCancelled(id int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.cancel[id]
	delete(p.cancel, id)
	return p.closed || c
}

// AddModel sends a model file to every worker, before any job that needs it. It may be
// called from any goroutine (the app's loader, say).
func (p *GoPool) AddModel(name string, b []byte) {
	if p.isClosed() {
		return
	}
	for _, ch := range p.models {
		ch <- modelFile{name, b}
	}
}

// Workers is the number of workers.
func (p *GoPool) Workers() int { return len(p.jobs) }

// Start queues a job on worker w.
func (p *GoPool) Start(w int, job Job) {
	if p.isClosed() || w < 0 || w >= len(p.jobs) {
		p.Push(Result{ID: job.ID, Err: fmt.Errorf("no worker %d", w)})
		return
	}
	job.X0 = append([]float32(nil), job.X0...) // the lane keeps its own
	p.jobs[w] <- job
}

// Cancel stops a job between two steps.
func (p *GoPool) Cancel(w, id int) {
	p.mu.Lock()
	p.cancel[id] = true
	p.mu.Unlock()
}

func (p *GoPool) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// Close stops the workers after the step they are on, drops the jobs queued, and waits.
// Start, AddModel and Close are for one goroutine at a time (the app's).
func (p *GoPool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return errors.New("explorer: pool already closed")
	}
	p.closed = true
	p.mu.Unlock()
	for _, ch := range p.jobs {
		close(ch)
	}
	p.wg.Wait()
	return nil
}

// ResultQueue holds the results that workers (goroutines, or JavaScript callbacks in the
// browser) push until the app polls them: the part of a [Pool] every pool has.
type ResultQueue struct {
	mu sync.Mutex
	q  []Result
}

// Push queues results.
func (r *ResultQueue) Push(res ...Result) {
	r.mu.Lock()
	r.q = append(r.q, res...)
	r.mu.Unlock()
}

// Poll appends the results pushed since the last call to dst.
func (r *ResultQueue) Poll(dst []Result) []Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	dst = append(dst, r.q...)
	clear(r.q)
	r.q = r.q[:0]
	return dst
}
