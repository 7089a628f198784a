//go:build js

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"syscall/js"
	"time"

	"github.com/flowmatch/flowmatch/explorer"
	"github.com/flowmatch/flowmatch/wasm/internal/jsarray"
)

// yieldEvery is how long the runs go on before the worker lets its messages (new runs,
// cancels) in.
const yieldEvery = 10 * time.Millisecond

func main() {
	t := newTransport(func(msg map[string]any, transfer ...any) {
		js.Global().Call("postMessage", js.ValueOf(msg), js.ValueOf(transfer))
	}, yielder())
	js.Global().Set("flowmatchWorker", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) > 0 {
			t.take(args[0])
		}
		return nil
	}))
	t.post(map[string]any{"type": "ready"})
	explorer.NewWorker().Serve(t) // for ever: the page terminates the worker
}

// transport is the worker's side of postMessage, an explorer.Transport: the page's
// messages are queued in an inbox as they come (on the event loop, between the worker's
// steps) and the answers posted back.
type transport struct {
	in    *explorer.Inbox
	post  func(msg map[string]any, transfer ...any)
	yield func()
	last  time.Time // when the event loop last had its turn
}

func newTransport(post func(map[string]any, ...any), yield func()) *transport {
	return &transport{in: explorer.NewInbox(), post: post, yield: yield, last: time.Now()}
}

// take queues a message from the page (on the event loop). A model file or a run that
// cannot be read is answered at once; a message of a type it does not know is dropped.
func (t *transport) take(msg js.Value) {
	if msg.Type() != js.TypeObject {
		return
	}
	switch msg.Get("type").String() {
	case "model":
		name, b := msg.Get("name").String(), msg.Get("bytes")
		if !b.InstanceOf(js.Global().Get("ArrayBuffer")) && !js.Global().Get("ArrayBuffer").Call("isView", b).Bool() {
			t.ModelAdded(name, errors.New("the file is not an ArrayBuffer"))
			return
		}
		t.in.Put(explorer.Message{Type: explorer.ModelMessage, Name: name, File: jsarray.Bytes(b)})
	case "run":
		job, err := jobOf(msg)
		if err != nil {
			t.Send(explorer.Result{ID: job.ID, Err: err})
			return
		}
		t.in.Put(explorer.Message{Type: explorer.JobMessage, Job: job})
	case "cancel":
		if id := msg.Get("id"); id.Type() == js.TypeNumber {
			t.in.Put(explorer.Message{Type: explorer.CancelMessage, ID: id.Int()})
		}
	case "hold":
		if id := msg.Get("id"); id.Type() == js.TypeNumber {
			t.in.Put(explorer.Message{Type: explorer.HoldMessage, ID: id.Int(), Hold: msg.Get("hold").Truthy()})
		}
	}
}

// Receive lets the messages that came meanwhile in, every yieldEvery while there are
// runs, and hands them to the worker's loop in order.
func (t *transport) Receive(wait bool) explorer.Message {
	if !wait && time.Since(t.last) > yieldEvery {
		t.yield()
		t.last = time.Now()
	}
	m := t.in.Receive(wait)
	if wait {
		t.last = time.Now()
	}
	return m
}

func (t *transport) Send(r explorer.Result) {
	if r.Err != nil {
		t.post(map[string]any{"type": "error", "id": r.ID, "error": r.Err.Error()})
		return
	}
	if r.X == nil { // a training job's progress, with now and then a model file
		msg := map[string]any{"type": "frame", "id": r.ID, "step": r.Step, "loss": r.Loss, "seconds": r.Seconds, "x": nil, "file": nil}
		if r.File == nil {
			t.post(msg)
			return
		}
		u8 := js.Global().Get("Uint8Array").New(len(r.File))
		js.CopyBytesToJS(u8, r.File)
		msg["file"] = u8.Get("buffer")
		t.post(msg, u8.Get("buffer"))
		return
	}
	f := jsarray.Float32Array(r.X)
	if r.Clean != nil { // an images job's x̂₁ beside the images
		c := jsarray.Float32Array(r.Clean)
		t.post(map[string]any{"type": "frame", "id": r.ID, "step": r.Step, "x": f, "clean": c}, f.Get("buffer"), c.Get("buffer"))
		return
	}
	t.post(map[string]any{"type": "frame", "id": r.ID, "step": r.Step, "x": f}, f.Get("buffer"))
}

func (t *transport) ModelAdded(name string, err error) {
	reply := map[string]any{"type": "model", "name": name, "error": nil}
	if err != nil {
		reply["error"] = err.Error()
	}
	t.post(reply)
}

// yielder returns a function that hands control back to the worker's event loop, which
// delivers the messages that came meanwhile (new runs; cancels, which stop a run there),
// and returns once they are handled. Go gives the event loop control only when every
// goroutine waits; a time.Sleep would wait on setTimeout, which browsers clamp to 4 ms
// when nested, so this waits on a message posted to itself, which comes at once.
func yielder() func() {
	ch := js.Global().Get("MessageChannel").New()
	resume := make(chan struct{}, 1)
	ch.Get("port1").Set("onmessage", js.FuncOf(func(js.Value, []js.Value) any {
		resume <- struct{}{}
		return nil
	}))
	port := ch.Get("port2")
	return func() {
		port.Call("postMessage", nil)
		<-resume
	}
}

// jobOf reads a run message. Without a kind it is an integration, as before jobs had
// kinds; a kind the worker does not know is left to the worker to answer. A field of the
// wrong type is an error of the job (of job −1 when the id is not a number).
func jobOf(msg js.Value) (job explorer.Job, err error) {
	job.ID = -1
	if id := msg.Get("id"); id.Type() == js.TypeNumber {
		job.ID = id.Int()
	}
	if k := msg.Get("kind"); k.Type() == js.TypeString {
		job.Kind = k.String()
	}
	if job.Kind == explorer.KindTrain {
		return trainJobOf(job, msg)
	}
	if job.Kind != "" && job.Kind != explorer.KindIntegrate && job.Kind != explorer.KindImages {
		return job, nil
	}
	defer func() {
		if r := recover(); r != nil { // syscall/js panics on a value of the wrong type
			err = fmt.Errorf("job %d: %v", job.ID, r)
		}
	}()
	job.Model, job.Method = msg.Get("model").String(), msg.Get("method").String()
	job.Steps, job.T0, job.T1 = msg.Get("steps").Int(), msg.Get("t0").Float(), msg.Get("t1").Float()
	x := msg.Get("x")
	if !x.InstanceOf(js.Global().Get("Float32Array")) {
		return job, fmt.Errorf("job %d: positions are not a Float32Array", job.ID)
	}
	job.X0 = jsarray.Float32s(x)
	if job.Kind == explorer.KindImages { // the rows' classes and the guidance weight
		labels := msg.Get("labels")
		job.Labels = make([]int, labels.Length())
		for i := range job.Labels {
			job.Labels[i] = labels.Index(i).Int()
		}
		job.Guidance = msg.Get("guidance").Float()
	}
	return job, nil
}

// trainJobOf reads a training job's settings: the TrainSpec as JSON in "train".
func trainJobOf(job explorer.Job, msg js.Value) (explorer.Job, error) {
	v := msg.Get("train")
	if v.Type() != js.TypeString {
		return job, fmt.Errorf("job %d: a training job without its settings", job.ID)
	}
	var spec explorer.TrainSpec
	if err := json.Unmarshal([]byte(v.String()), &spec); err != nil {
		return job, fmt.Errorf("job %d: the training settings: %w", job.ID, err)
	}
	job.Train = &spec
	if s := msg.Get("steps"); s.Type() == js.TypeNumber {
		job.Steps = s.Int()
	}
	return job, nil
}
