package explorer

import (
	"fmt"
	"sync"

	"github.com/flowmatch/flowmatch/sampler"
)

// KindIntegrate is the kind of [Job] that integrates positions through a model's field;
// a Job whose Kind is "" is one too (what the page and its tools sent before jobs had
// kinds). [KindTrain] is the other kind.
const KindIntegrate = "integrate"

// Worker is the far side of a [Pool]: the models it has been sent and the jobs it is
// working on. [Worker.Serve] is its loop, the same wherever it runs: on goroutines
// ([GoPool]) and in the browser's Web Workers (wasm/worker). A worker takes one step of
// each of its runs in turn, so that panels side by side advance together.
type Worker struct {
	models map[string]*Model
	runs   []task
	held   map[int]bool // jobs held (paused) between two steps
}

// task is a job being worked on, a step at a time: an integration ([run]) or a
// training ([trainRun]).
type task interface {
	jobID() int
	// advance takes the next step and sends its result with emit; it reports whether
	// the job is finished.
	advance(emit func(Result)) (done bool)
}

// NewWorker returns a worker with no models.
func NewWorker() *Worker { return &Worker{models: map[string]*Model{}, held: map[int]bool{}} }

// MessageType says what a [Message] holds.
type MessageType int

const (
	NoMessage     MessageType = iota // nothing has come (a Receive that does not wait)
	ModelMessage                     // a model file: Name, File
	JobMessage                       // a job to start: Job
	CancelMessage                    // stop job ID between two steps
	StopMessage                      // the pool is closed: Serve drops its runs and returns
	HoldMessage                      // hold job ID between two steps (Hold true) or take it up again
)

// Message is what a worker receives from its pool, in the order the pool sent it.
type Message struct {
	Type MessageType
	Name string // ModelMessage: the model's manifest name
	File []byte // ModelMessage: the model's file
	Job  Job    // JobMessage
	ID   int    // CancelMessage, HoldMessage: the job
	Hold bool   // HoldMessage: hold (true) or resume
}

// Transport is how a worker hears from its pool and answers it: an [Inbox] and the
// pool's [ResultQueue] for a [GoPool], postMessage in a Web Worker.
type Transport interface {
	// Receive returns the next message. With wait false it returns a NoMessage at once
	// when nothing is queued (a transport may first let its messages in: a Web Worker
	// yields to its event loop); with wait true it waits for a message.
	Receive(wait bool) Message
	// Send answers a job: a step's result or an error. X and File are valid during the
	// call only: a transport copies them (or transfers a copy).
	Send(r Result)
	// ModelAdded answers a model file: err is nil when the worker has it, else why not.
	ModelAdded(name string, err error)
}

// Serve is the worker's loop: it takes in its messages in order (models, jobs, cancels,
// holds) and, while it has runs not held, takes a step of each in turn between them,
// sending every step back. It returns when the transport says stop. Errors (a model that
// does not decode, a job that cannot run, a kind of job it does not know) are answered,
// never a panic.
func (w *Worker) Serve(t Transport) {
	for {
		m := t.Receive(!w.Busy())
		switch m.Type {
		case NoMessage:
			w.round(t.Send)
		case ModelMessage:
			t.ModelAdded(m.Name, w.AddModel(m.Name, m.File))
		case JobMessage:
			if err := w.Start(m.Job); err != nil {
				t.Send(Result{ID: m.Job.ID, Err: err})
			}
		case CancelMessage:
			w.cancel(m.ID)
		case HoldMessage:
			w.hold(m.ID, m.Hold, t.Send)
		case StopMessage:
			clear(w.runs)
			w.runs = w.runs[:0]
			return
		}
	}
}

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

// Start checks a job and adds it to the worker's runs; Serve takes their steps. A job
// of a kind the worker does not know is an error.
func (w *Worker) Start(job Job) error {
	switch job.Kind {
	case "", KindIntegrate:
		return w.startIntegrate(job)
	case KindTrain:
		r, err := newTrainRun(job)
		if err != nil {
			return err
		}
		w.runs = append(w.runs, r)
		return nil
	case KindImages:
		return w.startImages(job)
	}
	return fmt.Errorf("job %d: this worker does not know jobs of kind %q", job.ID, job.Kind)
}

// Busy reports whether any run not held has steps left.
func (w *Worker) Busy() bool {
	for _, r := range w.runs {
		if !w.held[r.jobID()] {
			return true
		}
	}
	return false
}

// cancel drops run id, if the worker has it.
func (w *Worker) cancel(id int) {
	delete(w.held, id)
	live := w.runs[:0]
	for _, r := range w.runs {
		if r.jobID() != id {
			live = append(live, r)
		}
	}
	clear(w.runs[len(live):])
	w.runs = live
}

// hold holds run id between two steps, or takes it up again. A training run held sends
// its weights at once, so that what a person downloads while paused is what they see.
func (w *Worker) hold(id int, on bool, emit func(Result)) {
	for _, r := range w.runs {
		if r.jobID() != id || w.held[id] == on {
			continue
		}
		if on {
			w.held[id] = true
			if tr, ok := r.(*trainRun); ok {
				tr.report(emit, true)
			}
		} else {
			delete(w.held, id)
			if tr, ok := r.(*trainRun); ok {
				tr.resume()
			}
		}
	}
}

// round takes one step of each run not held in turn, so that panels side by side
// advance together; each step's result goes to emit (its X valid during the call).
// Finished runs are dropped after their last step.
func (w *Worker) round(emit func(Result)) {
	live := w.runs[:0]
	for _, r := range w.runs {
		if w.held[r.jobID()] || !r.advance(emit) {
			live = append(live, r)
		}
	}
	clear(w.runs[len(live):])
	w.runs = live
}

// run is an integration job being worked on, a step at a time.
type run struct {
	job    Job
	field  sampler.Field
	solver *sampler.Solver
	d      int
	x      []float32
	k      int // steps taken
}

// startIntegrate checks an integration job and adds it to the runs.
func (w *Worker) startIntegrate(job Job) error {
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

func (r *run) jobID() int { return r.job.ID }

// advance takes the next step and sends the positions after it (step 1 for the first).
func (r *run) advance(emit func(Result)) bool {
	r.step()
	emit(Result{ID: r.job.ID, Step: r.k, X: r.x})
	return r.k >= r.job.Steps
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

// Inbox is a worker's queue of messages, the receiving half of a [Transport]: the pool
// puts messages in from any goroutine (or a JavaScript callback), and the worker's
// Serve takes them out in order. The zero Inbox is not usable: call NewInbox.
type Inbox struct {
	mu     sync.Mutex
	q      []Message
	closed bool
	wake   chan struct{} // a token once something was put in or the inbox closed
}

// NewInbox returns an empty inbox.
func NewInbox() *Inbox { return &Inbox{wake: make(chan struct{}, 1)} }

// Put queues a message; after Close it is dropped.
func (b *Inbox) Put(m Message) {
	b.mu.Lock()
	if !b.closed {
		b.q = append(b.q, m)
	}
	b.mu.Unlock()
	b.signal()
}

// Close drops the queued messages: from now on Receive says stop.
func (b *Inbox) Close() {
	b.mu.Lock()
	b.closed = true
	clear(b.q)
	b.q = nil
	b.mu.Unlock()
	b.signal()
}

func (b *Inbox) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// Receive returns the oldest message: a StopMessage once the inbox is closed, a
// NoMessage when none is queued and wait is false; with wait true it waits for one.
func (b *Inbox) Receive(wait bool) Message {
	for {
		b.mu.Lock()
		switch {
		case b.closed:
			b.mu.Unlock()
			return Message{Type: StopMessage}
		case len(b.q) > 0:
			m := b.q[0]
			b.q[0] = Message{}
			b.q = b.q[1:]
			b.mu.Unlock()
			return m
		}
		b.mu.Unlock()
		if !wait {
			return Message{}
		}
		<-b.wake
	}
}
