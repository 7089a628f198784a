package gotrain

import (
	"fmt"
	"runtime"
	"time"

	"github.com/flowmatch/flowmatch/weights"
)

// Engine is the name this trainer records in a model's provenance (Notes["engine"]).
const Engine = "go"

// Provenance is what a caller knows about a run that the trainer does not: where it
// ran and what the data were. File adds the recipe (steps, loss, seed, batch, learning
// rate, EMA, coupling, optimiser), the engine and the Go version.
type Provenance struct {
	Command string  // the command line, or e.g. "browser" for the explorer's Your data mode
	Device  string  // e.g. "cpu", or "browser (js/wasm, simd)"
	Seconds float64 // training time
	// Data is what the model generates: the data's name (a dataset, or e.g. a CSV's file
	// name), its Normalization to data units, Shape, Classes. Dim is filled in; Name
	// defaults to Config.Data.Dataset.
	Data  weights.DataInfo
	Notes map[string]string // more notes (rows, a file's SHA-256, …); "engine" is set to Engine
}

// File returns the exported (EMA) weights as a model file, with the path, the data's
// metadata and the run's provenance, ready for weights.WriteFile or weights.Encode.
func (t *Trainer) File(p Provenance) (*weights.File, error) {
	ws, bs := t.EMA()
	c := t.cfg
	data := p.Data
	data.Dim = t.spec.Dim
	if data.Name == "" {
		data.Name = c.Data.Dataset
	}
	notes := map[string]string{}
	for k, v := range p.Notes {
		notes[k] = v
	}
	notes["engine"] = Engine
	ema := c.EMA
	meta := weights.Meta{
		Model: t.Spec(),
		Path:  weights.PathInfo{PathSpec: c.Data.Path},
		Data:  data,
		Provenance: weights.Provenance{
			Command:   p.Command,
			Steps:     t.steps,
			FinalLoss: t.loss,
			Seed:      c.Seed,
			Batch:     c.Data.Batch,
			LR:        c.LR,
			EMA:       ema,
			Coupling:  c.Data.Coupling,
			Optimizer: "adamw",
			Device:    p.Device,
			Seconds:   p.Seconds,
			Go:        runtime.Version(),
			Date:      time.Now().UTC().Format(time.RFC3339),
			Notes:     notes,
		},
	}
	f, err := weights.NewFile(meta, ws, bs)
	if err != nil {
		return nil, fmt.Errorf("gotrain: %w", err)
	}
	return f, nil
}
