//go:build js

package main

import (
	"fmt"
	"sync"
	"syscall/js"
	"time"

	"github.com/flowmatch/flowmatch/explorer"
	"github.com/flowmatch/flowmatch/wasm/internal/jsarray"
)

// yieldEvery is how long the runs go on before the worker lets its messages (new runs,
// cancels) in.
const yieldEvery = 10 * time.Millisecond

func main() {
	w := explorer.NewWorker()
	var mu sync.Mutex
	var queue []explorer.Job
	cancelled := map[int]bool{}
	wake := make(chan struct{}, 1)
	post := func(msg map[string]any, transfer ...any) {
		js.Global().Call("postMessage", js.ValueOf(msg), js.ValueOf(transfer))
	}

	handle := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) == 0 || args[0].Type() != js.TypeObject {
			return nil
		}
		msg := args[0]
		switch msg.Get("type").String() {
		case "model":
			name := msg.Get("name").String()
			err := w.AddModel(name, jsarray.Bytes(msg.Get("bytes")))
			reply := map[string]any{"type": "model", "name": name, "error": nil}
			if err != nil {
				reply["error"] = err.Error()
			}
			post(reply)
		case "run":
			job, err := jobOf(msg)
			if err != nil {
				post(map[string]any{"type": "error", "id": msg.Get("id").Int(), "error": err.Error()})
				return nil
			}
			mu.Lock()
			queue = append(queue, job)
			mu.Unlock()
			select {
			case wake <- struct{}{}:
			default:
			}
		case "cancel":
			mu.Lock()
			cancelled[msg.Get("id").Int()] = true
			mu.Unlock()
		}
		return nil
	})
	yield := yielder()
	js.Global().Set("flowmatchWorker", handle)
	post(map[string]any{"type": "ready"})

	isCancelled := func(id int) bool {
		mu.Lock()
		defer mu.Unlock()
		return cancelled[id]
	}
	// dropCancelled forgets a cancel as its run is dropped.
	dropCancelled := func(id int) bool {
		mu.Lock()
		defer mu.Unlock()
		c := cancelled[id]
		delete(cancelled, id)
		return c
	}
	emit := func(id, k int, x []float32) {
		f := jsarray.Float32Array(x)
		post(map[string]any{"type": "frame", "id": id, "step": k, "x": f}, f.Get("buffer"))
	}
	last := time.Now()
	for {
		mu.Lock()
		jobs := queue
		queue = nil
		mu.Unlock()
		for _, job := range jobs {
			if isCancelled(job.ID) {
				continue
			}
			if err := w.Start(job); err != nil {
				post(map[string]any{"type": "error", "id": job.ID, "error": err.Error()})
			}
		}
		if !w.Busy() {
			<-wake
			last = time.Now()
			continue
		}
		w.Round(dropCancelled, emit)
		if time.Since(last) > yieldEvery {
			yield()
			last = time.Now()
		}
	}
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

// jobOf reads a run message.
func jobOf(msg js.Value) (explorer.Job, error) {
	job := explorer.Job{ID: msg.Get("id").Int(), Model: msg.Get("model").String(), Method: msg.Get("method").String(),
		Steps: msg.Get("steps").Int(), T0: msg.Get("t0").Float(), T1: msg.Get("t1").Float()}
	x := msg.Get("x")
	if !x.InstanceOf(js.Global().Get("Float32Array")) {
		return job, fmt.Errorf("job %d: positions are not a Float32Array", job.ID)
	}
	job.X0 = jsarray.Float32s(x)
	return job, nil
}
