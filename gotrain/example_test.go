package gotrain_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/flowmatch/flowmatch/gotrain"
	"github.com/flowmatch/flowmatch/recipe"
	"github.com/flowmatch/flowmatch/weights"
)

// Train a small network on moons with minibatch-OT pairs and save the EMA weights as a
// model file that flowmatch sample, eval and the explorer read.
func Example() {
	tr, err := gotrain.New(gotrain.Config{
		Data:   recipe.Data{Dataset: "moons", Batch: 128, Coupling: weights.CouplingOT},
		Hidden: []int{64, 64}, Steps: 200, Warmup: 20, Seed: 1,
	})
	if err != nil {
		log.Fatal(err)
	}
	first, _ := tr.Step()
	for tr.Steps() < 200 {
		if _, err := tr.Step(); err != nil {
			log.Fatal(err)
		}
	}
	f, err := tr.File(gotrain.Provenance{Command: "example"})
	if err != nil {
		log.Fatal(err)
	}
	var buf bytes.Buffer
	if err := weights.Encode(&buf, f, weights.F32); err != nil {
		log.Fatal(err)
	}
	fmt.Println("steps:", tr.Steps(), "loss fell by a third:", tr.Loss() < first*2/3)
	fmt.Println("engine:", f.Meta.Provenance.Notes["engine"], "data:", f.Meta.Data.Name)
	// Output:
	// steps: 200 loss fell by a third: true
	// engine: go data: moons
}
