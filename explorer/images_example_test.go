package explorer_test

import (
	"fmt"

	"github.com/flowmatch/flowmatch/explorer"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/unet"
	"github.com/flowmatch/flowmatch/weights"
)

// A grid of images from noise through a U-Net with classifier-free guidance: every
// step is kept with its predicted clean images, for a slider to scrub.
func ExampleNewImageRun() {
	// A U-Net of 1×8×8 images of 3 classes, all weights 0.01 (a trained model's file
	// comes from weights.ReadFile).
	cfg := unet.Config{Shape: []int{1, 8, 8}, Channels: 4, Mult: []int{1, 2}, Blocks: 1, Groups: 2, TimeFeatures: 4, Emb: 8, Classes: 3}
	tensors := map[string][]float32{}
	for _, ts := range cfg.Tensors() {
		n := 1
		for _, d := range ts.Shape {
			n *= d
		}
		tensors[ts.Name] = make([]float32, n)
		for i := range tensors[ts.Name] {
			tensors[ts.Name][i] = 0.01
		}
	}
	f, err := weights.NewFileTensors(weights.Meta{Arch: weights.ArchUNet, Net: &weights.UNetSpec{Config: cfg},
		Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}}}, tensors)
	if err != nil {
		panic(err)
	}
	field, _, err := f.Field()
	if err != nil {
		panic(err)
	}
	net := field.(*unet.Net)
	// Four images of classes 0, 1, 2, 0 (class i mod 3), guidance 1, 5 midpoint steps.
	labels := []int{0, 1, 2, 0}
	run, err := explorer.NewImageRun(net, sampler.Midpoint, 5, 0, 1, explorer.Noise(1, len(labels), net.Dim()), labels, 1)
	if err != nil {
		panic(err)
	}
	run.Finish() // or Advance a piece a frame, or Farm it out to a pool's workers
	k := run.FrameAt(0.5)
	fmt.Printf("%d frames of %d images; t = 0.5 shows step %d (t = %.1f), with x̂₁ known: %v\n",
		run.Computed(), run.N(), k, run.Time(k), run.Clean(k) != nil)
	// Output:
	// 6 frames of 4 images; t = 0.5 shows step 2 (t = 0.4), with x̂₁ known: true
}
