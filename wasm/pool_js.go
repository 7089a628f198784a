//go:build js

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"syscall/js"

	"github.com/flowmatch/flowmatch/explorer"
	"github.com/flowmatch/flowmatch/wasm/internal/jsarray"
)

// maxWorkers bounds the pool whatever the browser says it has: beyond a few workers the
// slices get small and the page's own work (drawing) dominates.
const maxWorkers = 8

// workerPool is the explorer's Pool in the browser: Web Workers running worker.wasm
// (www/worker.js), each sent every model file the page loads. Its callbacks run on the
// page's event loop, between the app's frames, so results wait in a queue for Poll.
type workerPool struct {
	explorer.ResultQueue
	mu      sync.Mutex // guards the workers' state
	workers []*pageWorker
}

type pageWorker struct {
	js      js.Value
	dead    error
	running map[int]int // job id → steps, for the jobs sent and not finished
}

// newWorkerPool starts n workers; it returns nil when the browser has no Web Workers or
// n < 1.
func newWorkerPool(n int) explorer.ModelPool {
	ctor := js.Global().Get("Worker")
	if n < 1 || ctor.Type() != js.TypeFunction {
		return nil
	}
	p := &workerPool{}
	for i := 0; i < n; i++ {
		w := &pageWorker{running: map[int]int{}}
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("%v", r)
				}
			}()
			w.js = ctor.New("worker.js?module&kernel=" + explorer.Kernel())
		}()
		if err != nil {
			js.Global().Get("console").Call("warn", "flowmatch: no Web Workers ("+err.Error()+"); computing in the page")
			break
		}
		w.js.Set("onmessage", js.FuncOf(func(_ js.Value, args []js.Value) any {
			p.receive(w, args[0].Get("data"))
			return nil
		}))
		w.js.Set("onerror", js.FuncOf(func(_ js.Value, args []js.Value) any {
			msg := "the worker failed"
			if len(args) > 0 && args[0].Get("message").Truthy() {
				msg = args[0].Get("message").String()
			}
			p.kill(w, errors.New(msg))
			return nil
		}))
		p.workers = append(p.workers, w)
	}
	if len(p.workers) == 0 {
		return nil
	}
	p.shareModule()
	return p
}

// workerWasm is the worker build with the page's own kernel: worker-simd.wasm for the
// WebAssembly SIMD build (main-simd.wasm), worker.wasm for the scalar one. worker.js
// picks the same one from its kernel parameter when it has to fetch it itself.
func workerWasm() string {
	if explorer.Kernel() == "simd" {
		return "worker-simd.wasm"
	}
	return "worker.wasm"
}

// shareModule compiles worker.wasm once, here, and posts the module to every worker
// (worker.js?module waits for it), instead of each worker fetching and compiling its own.
// Where that fails, each gets null and fetches it itself.
func (p *workerPool) shareModule() {
	send := func(module js.Value) {
		msg := js.ValueOf(map[string]any{"type": "module", "module": module})
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, w := range p.workers {
			if w.dead == nil {
				w.js.Call("postMessage", msg)
			}
		}
	}
	wa := js.Global().Get("WebAssembly")
	if wa.Get("compileStreaming").Type() != js.TypeFunction {
		send(js.Null())
		return
	}
	var onOK, onErr js.Func
	onOK = js.FuncOf(func(_ js.Value, args []js.Value) any {
		send(args[0])
		onOK.Release()
		onErr.Release()
		return nil
	})
	onErr = js.FuncOf(func(js.Value, []js.Value) any {
		send(js.Null())
		onOK.Release()
		onErr.Release()
		return nil
	})
	wa.Call("compileStreaming", js.Global().Call("fetch", workerWasm())).Call("then", onOK, onErr)
}

func (p *workerPool) receive(w *pageWorker, msg js.Value) {
	if msg.Type() != js.TypeObject {
		return
	}
	switch msg.Get("type").String() {
	case "frame":
		id, step := msg.Get("id").Int(), msg.Get("step").Int()
		r := explorer.Result{ID: id, Step: step}
		if v := msg.Get("loss"); v.Type() == js.TypeNumber { // a training job's progress
			r.Loss, r.Seconds = v.Float(), msg.Get("seconds").Float()
			if f := msg.Get("file"); f.Truthy() {
				r.File = jsarray.Bytes(f)
			}
		} else {
			r.X = jsarray.Float32s(msg.Get("x"))
			if c := msg.Get("clean"); c.Truthy() { // an images job's x̂₁
				r.Clean = jsarray.Float32s(c)
			}
		}
		p.Push(r)
		p.mu.Lock()
		if w.running[id] == step {
			delete(w.running, id)
		}
		p.mu.Unlock()
	case "error":
		id := msg.Get("id").Int()
		if id < 0 { // no job's: a run the worker could not read
			js.Global().Get("console").Call("warn", "flowmatch worker: "+msg.Get("error").String())
			return
		}
		p.mu.Lock()
		delete(w.running, id)
		p.Push(explorer.Result{ID: id, Err: errors.New(msg.Get("error").String())})
		p.mu.Unlock()
	case "model":
		if e := msg.Get("error"); e.Type() == js.TypeString {
			js.Global().Get("console").Call("warn", "flowmatch worker: "+e.String())
		}
	case "fatal":
		p.kill(w, errors.New(msg.Get("error").String()))
	}
}

// kill takes a worker out of the pool; its jobs end in errors, which send their lanes
// back to the page.
func (p *workerPool) kill(w *pageWorker, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w.dead != nil {
		return
	}
	w.dead = err
	js.Global().Get("console").Call("warn", "flowmatch: a Web Worker stopped: "+err.Error())
	for id := range w.running {
		p.Push(explorer.Result{ID: id, Err: err})
	}
	clear(w.running)
	w.js.Call("terminate")
}

// alive lists the workers still running.
func (p *workerPool) alive() []*pageWorker {
	var out []*pageWorker
	for _, w := range p.workers {
		if w.dead == nil {
			out = append(out, w)
		}
	}
	return out
}

func (p *workerPool) Workers() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.alive())
}

// AddModel sends a model file to every worker, before any job that needs it.
func (p *workerPool) AddModel(name string, b []byte) {
	u8 := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u8, b)
	msg := js.ValueOf(map[string]any{"type": "model", "name": name, "bytes": u8.Get("buffer")})
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.alive() {
		w.js.Call("postMessage", msg) // a copy each
	}
}

func (p *workerPool) Start(i int, job explorer.Job) {
	p.mu.Lock()
	defer p.mu.Unlock()
	alive := p.alive()
	if i < 0 || i >= len(alive) {
		p.Push(explorer.Result{ID: job.ID, Err: fmt.Errorf("no worker %d", i)})
		return
	}
	w := alive[i]
	x := jsarray.Float32Array(job.X0)
	w.running[job.ID] = job.Steps
	msg := map[string]any{"type": "run", "id": job.ID, "kind": job.Kind, "model": job.Model,
		"method": job.Method, "steps": job.Steps, "t0": job.T0, "t1": job.T1, "x": x}
	if job.Kind == explorer.KindImages {
		labels := make([]any, len(job.Labels))
		for i, c := range job.Labels {
			labels[i] = c
		}
		msg["labels"], msg["guidance"] = labels, job.Guidance
	}
	if job.Train != nil {
		b, err := json.Marshal(job.Train)
		if err != nil {
			p.Push(explorer.Result{ID: job.ID, Err: err})
			return
		}
		msg["train"] = string(b)
	}
	w.js.Call("postMessage", js.ValueOf(msg), js.ValueOf([]any{x.Get("buffer")}))
}

// Hold holds a job between two of its steps, or takes it up again (a training job's
// pause and resume).
func (p *workerPool) Hold(i, id int, hold bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.workers {
		if _, ok := w.running[id]; ok && w.dead == nil {
			w.js.Call("postMessage", js.ValueOf(map[string]any{"type": "hold", "id": id, "hold": hold}))
		}
	}
}

func (p *workerPool) Cancel(i, id int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.workers {
		if _, ok := w.running[id]; ok {
			delete(w.running, id)
			if w.dead == nil {
				w.js.Call("postMessage", js.ValueOf(map[string]any{"type": "cancel", "id": id}))
			}
		}
	}
}
