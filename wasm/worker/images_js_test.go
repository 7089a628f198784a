//go:build js

package main

import (
	"syscall/js"
	"testing"
	"time"

	"github.com/flowmatch/flowmatch/explorer"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/unet"
	"github.com/flowmatch/flowmatch/wasm/internal/jsarray"
	"github.com/flowmatch/flowmatch/weights"
)

// tinyImageModel is a U-Net file of 1×8×8 images of 3 classes, weights 0.05 apart.
func tinyImageModel(t *testing.T) []byte {
	cfg := unet.Config{Shape: []int{1, 8, 8}, Channels: 4, Mult: []int{1, 2}, Blocks: 1, Groups: 2, TimeFeatures: 4, Emb: 8, Classes: 3}
	tensors := map[string][]float32{}
	for _, ts := range cfg.Tensors() {
		n := 1
		for _, d := range ts.Shape {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = 0.05 * float32(i%7-3)
		}
		tensors[ts.Name] = v
	}
	f, err := weights.NewFileTensors(weights.Meta{Arch: weights.ArchUNet, Net: &weights.UNetSpec{Config: cfg},
		Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}},
		Data: weights.DataInfo{Name: "tiny", Shape: cfg.Shape, Classes: []string{"a", "b", "c"}, Pixels: []float64{-1, 1}}}, tensors)
	if err != nil {
		t.Fatal(err)
	}
	b, err := weights.Marshal(f, weights.F32)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An images job ({kind: "images", labels, guidance}) posts each step's images and the
// clean images at its start, transferring both buffers, exactly as a GoPool computes
// them.
func TestWorkerImages(t *testing.T) {
	file := tinyImageModel(t)
	x0 := explorer.Noise(4, 3, 64)
	p := startWorker(t)
	p.t.take(modelMsg(t, "img", file))
	p.t.take(runMsg(map[string]any{"id": 7, "kind": "images", "model": "img", "method": "midpoint", "steps": 2, "t0": 0, "t1": 1,
		"x": jsarray.Float32Array(x0), "labels": []any{2, 0, 3}, "guidance": 1.5}))
	got := p.wait(t, 3)
	gp := explorer.NewGoPool(1)
	defer gp.Close()
	gp.AddModel("img", file)
	gp.Start(0, explorer.Job{ID: 7, Kind: explorer.KindImages, Model: "img", Method: "midpoint", Steps: 2, T0: 0, T1: 1, X0: x0,
		Labels: []int{2, 0, 3}, Guidance: 1.5})
	var ref []explorer.Result
	for deadline := time.Now().Add(30 * time.Second); len(ref) < 2 && time.Now().Before(deadline); {
		ref = gp.Poll(ref)
		time.Sleep(time.Millisecond)
	}
	if len(ref) < 2 || ref[0].Err != nil {
		t.Fatalf("GoPool: %+v", ref)
	}
	for i, m := range got[1:3] {
		if m["type"] != "frame" || m["step"] != i+1 {
			t.Fatalf("message %d: %v", i+1, m)
		}
		x, c := jsarray.Float32s(m["x"].(js.Value)), jsarray.Float32s(m["clean"].(js.Value))
		if len(x) != 3*64 || len(c) != 3*64 {
			t.Fatalf("step %d: %d and %d values", i+1, len(x), len(c))
		}
		for j := range x {
			if x[j] != ref[i].X[j] || c[j] != ref[i].Clean[j] {
				t.Fatalf("step %d value %d: %v, %v posted; %v, %v from a GoPool", i+1, j, x[j], c[j], ref[i].X[j], ref[i].Clean[j])
			}
		}
	}
}
