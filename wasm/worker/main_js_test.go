//go:build js

package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall/js"
	"testing"
	"time"

	"github.com/flowmatch/flowmatch/explorer"
	"github.com/flowmatch/flowmatch/wasm/internal/jsarray"
)

// page is the page's end of a worker under test: what the worker posted, and a Serve
// running over the worker's transport.
type page struct {
	mu     sync.Mutex
	posted []map[string]any
	t      *transport
	done   chan struct{}
}

func startWorker(t *testing.T) *page {
	p := &page{done: make(chan struct{})}
	p.t = newTransport(func(msg map[string]any, transfer ...any) {
		want := 1 // buffers transferred: x's (an images job's frame has clean's too)
		if _, ok := msg["clean"]; ok {
			want = 2
		}
		if msg["type"] == "frame" && (len(transfer) != want || !transfer[0].(js.Value).Equal(msg["x"].(js.Value).Get("buffer"))) {
			t.Errorf("frame %v posted without transferring its buffer", msg["step"])
		}
		p.mu.Lock()
		p.posted = append(p.posted, msg)
		p.mu.Unlock()
	}, func() { time.Sleep(time.Millisecond) })
	go func() {
		explorer.NewWorker().Serve(p.t)
		close(p.done)
	}()
	t.Cleanup(func() {
		p.t.in.Close()
		<-p.done
	})
	return p
}

// wait waits until the worker has posted n messages and returns them.
func (p *page) wait(t *testing.T, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		p.mu.Lock()
		got := append([]map[string]any(nil), p.posted...)
		p.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages from the worker, want %d: %v", len(got), n, got)
		}
		time.Sleep(time.Millisecond)
	}
}

func modelMsg(t *testing.T, name string, b []byte) js.Value {
	u8 := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u8, b)
	return js.ValueOf(map[string]any{"type": "model", "name": name, "bytes": u8.Get("buffer")})
}

func runMsg(fields map[string]any) js.Value {
	fields["type"] = "run"
	return js.ValueOf(fields)
}

// The worker answers every model file, integrates runs with or without a kind exactly
// as a GoPool does, and answers a run it cannot read or a kind it does not know with an
// error, not a panic.
func TestWorkerMessages(t *testing.T) {
	file, err := os.ReadFile("../../weights/moons-ot.safetensors")
	if err != nil {
		t.Skipf("shipped model: %v", err)
	}
	x0 := explorer.Noise(4, 300, 2)
	p := startWorker(t)
	p.t.take(js.ValueOf("not an object"))
	p.t.take(js.ValueOf(map[string]any{"type": "gossip"}))
	p.t.take(modelMsg(t, "moons-ot", file))
	p.t.take(modelMsg(t, "junk", []byte("not a model")))
	p.t.take(js.ValueOf(map[string]any{"type": "model", "name": "none", "bytes": 3}))
	p.t.take(runMsg(map[string]any{"id": 1, "kind": "bake", "model": "moons-ot"}))
	p.t.take(runMsg(map[string]any{"id": 2, "model": "moons-ot", "method": "midpoint", "steps": "three", "t0": 0, "t1": 1, "x": jsarray.Float32Array(x0)}))
	p.t.take(runMsg(map[string]any{"id": 3, "model": "moons-ot", "method": "midpoint", "steps": 3, "t0": 0, "t1": 1, "x": []any{1, 2}}))
	p.t.take(runMsg(map[string]any{"id": 4, "model": "moons-ot", "method": "midpoint", "steps": 3, "t0": 0, "t1": 1, "x": jsarray.Float32Array(x0)}))
	p.t.take(runMsg(map[string]any{"id": 5, "kind": "integrate", "model": "moons-ot", "method": "euler", "steps": 2, "t0": 0, "t1": 1, "x": jsarray.Float32Array(x0)}))
	got := p.wait(t, 11)
	// Messages that cannot be read are answered as they come; the rest in order, by Serve.
	var lines, early []string
	var served []map[string]any
	for _, m := range got {
		s := m["type"].(string)
		for _, k := range []string{"name", "id", "step", "error"} {
			if v, ok := m[k]; ok && v != nil {
				s += " " + strings.Split(fmt.Sprint(v), ":")[0]
			}
		}
		if m["name"] == "none" || m["id"] == 2 || m["id"] == 3 {
			early = append(early, s)
			continue
		}
		lines = append(lines, s)
		served = append(served, m)
	}
	slices.Sort(early)
	if want := []string{"error 2 job 2", "error 3 job 3", "model none the file is not an ArrayBuffer"}; !slices.Equal(early, want) {
		t.Errorf("the messages that cannot be read were answered with %q, want %q", early, want)
	}
	want := []string{
		"model moons-ot", "model junk model junk",
		"error 1 job 1",
		"frame 4 1", "frame 5 1", "frame 4 2", "frame 5 2", "frame 4 3",
	}
	if !slices.Equal(lines, want) {
		t.Fatalf("the worker posted:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if e := served[2]["error"].(string); !strings.Contains(e, `kind "bake"`) {
		t.Errorf("the train job's error %q", e)
	}

	// The same runs over a GoPool: the same positions, bit for bit.
	gp := explorer.NewGoPool(1)
	defer gp.Close()
	gp.AddModel("moons-ot", file)
	gp.Start(0, explorer.Job{ID: 4, Kind: explorer.KindIntegrate, Model: "moons-ot", Method: "midpoint", Steps: 3, T0: 0, T1: 1, X0: x0})
	var ref []explorer.Result
	for deadline := time.Now().Add(30 * time.Second); len(ref) < 3 && time.Now().Before(deadline); {
		ref = gp.Poll(ref)
		time.Sleep(time.Millisecond)
	}
	for i, m := range []map[string]any{served[3], served[5], served[7]} {
		x := jsarray.Float32s(m["x"].(js.Value))
		if len(ref) <= i || ref[i].Err != nil || len(x) != len(ref[i].X) {
			t.Fatalf("step %d: %d values posted; GoPool %+v", i+1, len(x), ref)
		}
		for j := range x {
			if x[j] != ref[i].X[j] {
				t.Fatalf("step %d value %d: %v posted, %v from a GoPool", i+1, j, x[j], ref[i].X[j])
			}
		}
	}
}

// A cancel stops a run between two steps; the worker goes on with the others.
func TestWorkerCancel(t *testing.T) {
	file, err := os.ReadFile("../../weights/moons-ot.safetensors")
	if err != nil {
		t.Skipf("shipped model: %v", err)
	}
	p := startWorker(t)
	p.t.take(modelMsg(t, "moons-ot", file))
	x := explorer.Noise(1, 50, 2)
	p.t.take(runMsg(map[string]any{"id": 1, "model": "moons-ot", "method": "euler", "steps": 100000, "t0": 0, "t1": 1, "x": jsarray.Float32Array(x)}))
	p.wait(t, 3)
	p.t.take(js.ValueOf(map[string]any{"type": "cancel", "id": 1}))
	p.t.take(runMsg(map[string]any{"id": 2, "model": "moons-ot", "method": "euler", "steps": 2, "t0": 0, "t1": 1, "x": jsarray.Float32Array(x)}))
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := p.wait(t, 1)
		last := got[len(got)-1]
		if last["id"] == 2 && last["step"] == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("run 2 did not finish; last message %v", last)
		}
		time.Sleep(time.Millisecond)
	}
	n := len(p.wait(t, 1))
	time.Sleep(50 * time.Millisecond)
	if m := p.wait(t, 1); len(m) != n {
		t.Errorf("the cancelled run went on: %v", m[len(m)-1])
	}
}
