package explorer

import (
	"bytes"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"time"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/gotrain"
	"github.com/flowmatch/flowmatch/recipe"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// KindTrain is the kind of [Job] that trains a velocity network on a person's points
// with the pure-Go trainer (package gotrain), in a worker so that the page stays smooth.
// Its results carry the step, the smoothed loss and, every [TrainSpec].SnapshotMs and
// at the end, a model file of the EMA weights.
const KindTrain = "train"

// TrainSpec is what a training job trains on and how: the recipe of package recipe (CFM
// on the OT path, AdamW with linear warmup and cosine decay, gradient clipping, EMA) with
// the settings a page offers. Zero fields take the defaults below.
type TrainSpec struct {
	Name   string `json:"name"`   // what the points are: "drawn", a CSV's name, a toy's name
	Source string `json:"source"` // "drawn", "csv", "url", "toy" or "link", for the file's metadata
	// File and SHA256 name the points' file and its bytes' SHA-256 (a dropped CSV, or
	// the mode's own export, PointsCSV), so that flowmatch eval -data FILE checks it is
	// the same data and scores the model on the rows held out of training.
	File     string    `json:"file"`
	SHA256   string    `json:"sha256"`
	Points   []float32 `json:"points"`   // n × Dim, data coordinates (standardised by the worker)
	Dim      int       `json:"dim"`      // 0 means 2
	Coupling string    `json:"coupling"` // weights.CouplingIndependent ("" too) or weights.CouplingOT
	Hidden   []int     `json:"hidden"`   // nil: DefaultTrainHidden
	Steps    int       `json:"steps"`    // 0: DefaultTrainSteps
	Batch    int       `json:"batch"`    // 0: DefaultTrainBatch
	LR       float64   `json:"lr"`       // peak learning rate; 0: DefaultTrainLR
	Warmup   int       `json:"warmup"`   // 0: a tenth of Steps, at most 500
	Seed     uint64    `json:"seed"`
	// SnapshotMs is the time between two model files sent back (0: 500 ms): the page
	// shows the particles flowing with each, so people watch the flow form.
	SnapshotMs int `json:"snapshotMs"`
}

// Defaults of a training job. Three hidden layers of 64 (8.6 k weights) learn a 2-D
// shape in a few thousand steps of 256 points, which a browser tab takes in seconds;
// the shipped models' 3×256 (133 k) is fifteen times the work per step for a 2-D toy's
// little gain, and stays available. The peak learning rate is higher than the shipped
// recipe's 2e-3 because the run is short: on 2,000 moons points, 3,000 independent-
// coupling steps reach W2 1.97× the i.i.d. floor at 1e-2 against 3.4× at 2e-3 (natively,
// sampled with 20 midpoint steps).
var DefaultTrainHidden = []int{64, 64, 64}

const (
	DefaultTrainSteps = 3000
	DefaultTrainBatch = 256
	DefaultTrainLR    = 1e-2
	MaxTrainPoints    = 50_000 // the most points a page trains on
	trainSlice        = 25 * time.Millisecond
)

// withDefaults fills in the zero fields.
func (s TrainSpec) withDefaults() TrainSpec {
	if s.Dim == 0 {
		s.Dim = PlotDim
	}
	if s.Coupling == "" {
		// Independent pairs by default: minibatch OT learns more a step (on moons, 1.57×
		// the W2 floor after 3,000 steps against 1.97×) but its exact assignments make a
		// step ~6× slower, and people watch it learn.
		s.Coupling = weights.CouplingIndependent
	}
	if s.Hidden == nil {
		s.Hidden = DefaultTrainHidden
	}
	if s.Steps == 0 {
		s.Steps = DefaultTrainSteps
	}
	if s.Batch == 0 {
		s.Batch = DefaultTrainBatch
	}
	if s.LR == 0 {
		s.LR = DefaultTrainLR
	}
	if s.Warmup == 0 {
		s.Warmup = min(500, s.Steps/10)
	}
	if s.SnapshotMs == 0 {
		s.SnapshotMs = 500
	}
	return s
}

// trainRun is a training job being worked on, a slice of steps at a time.
type trainRun struct {
	id     int
	spec   TrainSpec
	tr     *gotrain.Trainer
	norm   *weights.Normalization
	now    func() time.Time
	begun  time.Time // when the current stretch of training began (after a resume)
	before float64   // seconds trained before it
	shot   time.Time // when the last model file was sent
}

// newTrainRun checks a training job and makes its trainer: the points standardised per
// dimension (dataset.Standardize), the Normalization kept for the model file so that
// samples come back in the points' own coordinates.
func newTrainRun(job Job) (*trainRun, error) {
	if job.Train == nil {
		return nil, fmt.Errorf("job %d: a training job without its settings", job.ID)
	}
	s := job.Train.withDefaults()
	n := len(s.Points) / max(s.Dim, 1)
	switch {
	case s.Dim < 1 || len(s.Points)%s.Dim != 0:
		return nil, fmt.Errorf("job %d: %d values is not a whole number of %d-dimensional points", job.ID, len(s.Points), s.Dim)
	case n < 2:
		return nil, fmt.Errorf("job %d: %d points; draw or load at least 2", job.ID, n)
	case n > MaxTrainPoints:
		return nil, fmt.Errorf("job %d: %d points, at most %d", job.ID, n, MaxTrainPoints)
	}
	for _, v := range s.Points {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("job %d: the points are not all finite", job.ID)
		}
	}
	// A seeded tenth of the rows is held out, as flowmatch train -data holds it out, so
	// that flowmatch eval scores the model on rows it never saw.
	train, _, err := dataset.Split(s.Points, s.Dim, s.Seed)
	if err != nil {
		return nil, fmt.Errorf("job %d: %w", job.ID, err)
	}
	mean, std, err := dataset.Standardize(train, s.Dim)
	if err != nil {
		return nil, fmt.Errorf("job %d: %w", job.ID, err)
	}
	for j := range std {
		if std[j] == 0 {
			std[j] = 1 // a constant coordinate: the network keeps it at the mean
		}
	}
	norm := &weights.Normalization{Mean: mean, Std: std}
	z := train
	weights.DataInfo{Dim: s.Dim, Normalization: norm}.FromData(z)
	tr, err := gotrain.New(gotrain.Config{
		Data: recipe.Data{Dataset: s.Name, Points: z, PointsDim: s.Dim, Path: sampler.PathSpec{Name: sampler.PathOT},
			Coupling: s.Coupling, Batch: s.Batch},
		Hidden: s.Hidden, Steps: s.Steps, LR: s.LR, Warmup: s.Warmup, Seed: s.Seed, Workers: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("job %d: %w", job.ID, err)
	}
	now := time.Now
	return &trainRun{id: job.ID, spec: s, tr: tr, norm: norm, now: now, begun: now(), shot: now()}, nil
}

func (r *trainRun) jobID() int { return r.id }

// advance trains for a slice of time (trainSlice, at least one step) and reports.
func (r *trainRun) advance(emit func(Result)) bool {
	start := r.now()
	for r.tr.Steps() < r.spec.Steps {
		if _, err := r.tr.Step(); err != nil {
			emit(Result{ID: r.id, Step: r.tr.Steps(), Err: err})
			return true
		}
		if r.now().Sub(start) >= trainSlice {
			break
		}
	}
	done := r.tr.Steps() >= r.spec.Steps
	r.report(emit, done || r.now().Sub(r.shot) >= time.Duration(r.spec.SnapshotMs)*time.Millisecond)
	return done
}

// seconds is the time spent training so far (holds not counted).
func (r *trainRun) seconds() float64 { return r.before + r.now().Sub(r.begun).Seconds() }

// resume starts the clock again after a hold.
func (r *trainRun) resume() { r.begun = r.now() }

// report sends the progress, with a model file when withFile. A file that cannot be
// made is the job's error.
func (r *trainRun) report(emit func(Result), withFile bool) {
	res := Result{ID: r.id, Step: r.tr.Steps(), Loss: r.tr.Loss(), Seconds: r.seconds()}
	if withFile {
		b, err := r.file(res.Seconds)
		if err != nil {
			res.Err = err
		}
		res.File = b
		r.shot = r.now()
	}
	emit(res)
}

// file is the EMA weights so far as a model file's bytes, with what they were trained
// on and how in its metadata.
func (r *trainRun) file(seconds float64) ([]byte, error) {
	s := r.spec
	n := len(s.Points) / s.Dim
	f, err := r.tr.File(gotrain.Provenance{
		Command: "browser", Device: trainDevice(), Seconds: seconds,
		Data: weights.DataInfo{Name: s.Name, Normalization: r.norm, Source: weights.Source{
			File: s.File, Rows: n, SHA256: s.SHA256,
			Holdout: weights.Holdout{Rule: dataset.HoldoutRule, Seed: s.Seed, Rows: dataset.HoldoutCount(n)}}},
		Notes: map[string]string{
			"trained_in": "the flowmatch explorer's Your data mode", "source": s.Source,
			"rows": strconv.Itoa(n), "hidden": fmt.Sprint(s.Hidden), "warmup": strconv.Itoa(s.Warmup),
			"recipe": "CFM, OT path, AdamW, linear warmup then cosine decay, clip 1, EMA 0.999",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("job %d: the model file: %w", r.id, err)
	}
	var buf bytes.Buffer
	if err := weights.Encode(&buf, f, weights.F32); err != nil {
		return nil, fmt.Errorf("job %d: the model file: %w", r.id, err)
	}
	return buf.Bytes(), nil
}

// trainDevice says where the training ran, for the file's provenance.
func trainDevice() string {
	if runtime.GOOS == "js" {
		return "browser (js/wasm, " + Kernel() + " kernel)"
	}
	return "cpu (" + runtime.GOOS + "/" + runtime.GOARCH + ", " + Kernel() + " kernel)"
}
