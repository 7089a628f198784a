//go:build js

package main

import (
	"encoding/json"
	"sync"
	"syscall/js"
	"testing"
	"time"

	"github.com/flowmatch/flowmatch/explorer"
	"github.com/flowmatch/flowmatch/wasm/internal/jsarray"
	"github.com/flowmatch/flowmatch/weights"
)

// A training run, its settings as JSON beside the run as the page posts them, answers
// with its steps and losses, a held run sends its model file, and the last message
// carries the file of the whole run, transferred.
func TestWorkerTrain(t *testing.T) {
	var mu sync.Mutex
	var posted []map[string]any
	tr := newTransport(func(msg map[string]any, transfer ...any) {
		if f, ok := msg["file"].(js.Value); ok && f.Truthy() && (len(transfer) != 1 || !transfer[0].(js.Value).Equal(f)) {
			t.Errorf("a model file posted without transferring it")
		}
		mu.Lock()
		posted = append(posted, msg)
		mu.Unlock()
	}, func() { time.Sleep(time.Millisecond) })
	done := make(chan struct{})
	go func() { explorer.NewWorker().Serve(tr); close(done) }()
	defer func() { tr.in.Close(); <-done }()

	pts := explorer.Noise(3, 200, 2)
	spec, _ := json.Marshal(explorer.TrainSpec{Name: "blob", Source: "drawn", Points: pts, Steps: 40, Hidden: []int{8}, Batch: 32})
	tr.take(js.ValueOf(map[string]any{"type": "run", "id": 9, "kind": explorer.KindTrain, "steps": 40, "train": string(spec)}))
	tr.take(js.ValueOf(map[string]any{"type": "run", "id": 10, "kind": explorer.KindTrain, "steps": 5, "train": 3}))
	deadline := time.Now().Add(time.Minute)
	var last map[string]any
	for {
		mu.Lock()
		if n := len(posted); n > 0 {
			last = posted[n-1]
		}
		mu.Unlock()
		if last != nil && last["id"] == 9 && last["step"] == 40 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the training did not finish; last message %v", last)
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if posted[0]["type"] != "error" || posted[0]["id"] != 10 {
		t.Errorf("a run with settings that are not JSON was answered with %v", posted[0])
	}
	f, err := weights.DecodeBytes(jsarray.Bytes(last["file"].(js.Value)))
	if err != nil {
		t.Fatal(err)
	}
	if f.Meta.Provenance.Steps != 40 || f.Meta.Provenance.Notes["source"] != "drawn" || !(last["loss"].(float64) > 0) {
		t.Errorf("the last message: loss %v, provenance %+v", last["loss"], f.Meta.Provenance)
	}
}
