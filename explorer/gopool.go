package explorer

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// GoPool is a [Pool] of goroutines, each serving a [Worker] over an [Inbox]: what the
// desktop build uses, so that particles are integrated between frames as well as during
// them, as Web Workers do in the browser. Close stops it.
type GoPool struct {
	ResultQueue
	mu      sync.Mutex // guards closed
	inboxes []*Inbox
	closed  bool
	wg      sync.WaitGroup
}

// NewGoPool starts n workers (at least one). Natively the sampler spreads each batch over
// the cores itself, so one worker already keeps them all busy.
func NewGoPool(n int) *GoPool {
	p := &GoPool{}
	for range max(n, 1) {
		in := NewInbox()
		p.inboxes = append(p.inboxes, in)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			NewWorker().Serve(goTransport{in, &p.ResultQueue})
		}()
	}
	return p
}

// goTransport is a GoPool worker's side: its inbox, and the pool's queue for answers.
type goTransport struct {
	in  *Inbox
	out *ResultQueue
}

func (t goTransport) Receive(wait bool) Message {
	if !wait {
		// Where goroutines are not preempted (js/wasm), let the app's run between rounds.
		runtime.Gosched()
	}
	return t.in.Receive(wait)
}

func (t goTransport) Send(r Result) {
	if r.X != nil {
		r.X = append([]float32(nil), r.X...)
	}
	if r.Clean != nil {
		r.Clean = append([]float32(nil), r.Clean...)
	}
	if r.File != nil {
		r.File = append([]byte(nil), r.File...)
	}
	t.out.Push(r)
}

func (t goTransport) ModelAdded(_ string, err error) {
	if err != nil {
		t.out.Push(Result{ID: -1, Err: err}) // no job's: the app drops it
	}
}

// AddModel sends a model file to every worker, before any job that needs it. It may be
// called from any goroutine (the app's loader, say).
func (p *GoPool) AddModel(name string, b []byte) {
	for _, in := range p.inboxes {
		in.Put(Message{Type: ModelMessage, Name: name, File: b})
	}
}

// Workers is the number of workers.
func (p *GoPool) Workers() int { return len(p.inboxes) }

// Start queues a job on worker w.
func (p *GoPool) Start(w int, job Job) {
	if p.isClosed() || w < 0 || w >= len(p.inboxes) {
		p.Push(Result{ID: job.ID, Err: fmt.Errorf("no worker %d", w)})
		return
	}
	job.X0 = append([]float32(nil), job.X0...) // the lane keeps its own
	p.inboxes[w].Put(Message{Type: JobMessage, Job: job})
}

// Cancel stops job id on worker w between two rounds of steps.
func (p *GoPool) Cancel(w, id int) {
	if w >= 0 && w < len(p.inboxes) {
		p.inboxes[w].Put(Message{Type: CancelMessage, ID: id})
	}
}

// Hold holds job id on worker w between two steps (hold true), or takes it up again.
func (p *GoPool) Hold(w, id int, hold bool) {
	if w >= 0 && w < len(p.inboxes) {
		p.inboxes[w].Put(Message{Type: HoldMessage, ID: id, Hold: hold})
	}
}

func (p *GoPool) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// Close stops the workers after the round of steps they are on, drops the messages
// queued, and waits. Start and Close are for one goroutine at a time (the app's).
func (p *GoPool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return errors.New("explorer: pool already closed")
	}
	p.closed = true
	p.mu.Unlock()
	for _, in := range p.inboxes {
		in.Close()
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
