package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/eval"
	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/outfile"
	"github.com/flowmatch/flowmatch/progress"
	"github.com/flowmatch/flowmatch/weights"
)

// Options for [Run]. The zero value reads weights/ and writes results/.
type Options struct {
	Models string // folder of *.safetensors model files (default "weights")
	Out    string // output folder (default "results")
	Seed   uint64
	// SweepN is the number of points of each sweep run (default 1,000, at most
	// metrics.MaxN).
	SweepN int
	// QualityN is the number of points of the quality table's measurements (default
	// 2,000, at most eval.MaxN).
	QualityN int
	// Target is the W2 / floor level whose NFE the comparison table reports (default 1.5).
	Target float64
	// Stderr, if set, gets a one-line warning for each model left out and, when it is a
	// terminal, a progress bar (a log gets no bar: progress is silent off a terminal).
	Stderr io.Writer

	// The image section, for image models (arch unet) in Models.
	//
	// Classifier is the file of the classifier that judges them (default: the file of
	// arch classifier in Models, weights/fashion-classifier.safetensors when it is
	// weights/).
	Classifier string
	FashionDir string // Fashion-MNIST's idx files (default dataset.FashionMNISTDir)
	// ImageN is the headline's samples per guidance weight at 20-NFE midpoint (default
	// 10,000, the size); ImageSweepN a point's samples in the figures against
	// NFE (default 2,000). Each is at most the 60,000 training images (the floor's).
	ImageN, ImageSweepN int
	// Reference is the prefix of ../shared/bench/pytorch_fmnist.py --out's files
	// (PREFIX.w0.npy, PREFIX.w0.labels.npy, … w2), judged with the same classifier beside
	// each image model; "" leaves the reference out.
	Reference string
}

// Errors of the options, which a command reports as the user's mistake.
var (
	// ErrNoModels: the models folder holds no *.safetensors file.
	ErrNoModels = errors.New("no *.safetensors models")
	// ErrOutNotFolder: the output path exists and is not a folder.
	ErrOutNotFolder = errors.New("not a folder")
)

// MaxImageN bounds Options.ImageN and ImageSweepN: the floor draws as many of
// Fashion-MNIST's 60,000 training images.
const MaxImageN = 60000

// IIDFloorReps is how many draws the quality table's i.i.d. floor averages; the data
// floor averages eval's default 3.
const IIDFloorReps = 8

// Model is one model file and what the report measured of it.
type Model struct {
	File string `json:"file"`
	// Label names the model among its dataset's: its path, with " OT-CFM" for a model
	// trained with the OT coupling.
	Label   string       `json:"label"`
	Quality *eval.Result `json:"quality"`
	Sweep   []Point      `json:"sweep,omitempty"`
	// Straightness of 20-step midpoint trajectories (1 = straight lines).
	Straightness float64 `json:"straightness,omitempty"`
	f            *weights.File
}

// Skipped is a model file the report left out, wholly or from one figure, and why.
type Skipped struct {
	File   string `json:"file"`
	Part   string `json:"part"` // PartModel, PartSweep or PartDensity
	Reason string `json:"reason"`
}

// What a Skipped left out.
const (
	PartModel   = "model"   // the whole model: no quality row, no figure
	PartSweep   = "sweep"   // the solver sweep and trajectory figure of its dataset
	PartDensity = "density" // the learned-density figure
)

// Results is everything the report measured; results.json holds it.
type Results struct {
	Models     []*Model           `json:"models"`
	SweepFloor map[string]float64 `json:"sweep_floor"` // W2 floor at SweepN, per dataset
	SweepN     int                `json:"sweep_n"`
	Target     float64            `json:"target"`
	Skipped    []Skipped          `json:"skipped,omitempty"`
	// Images are the image models' figures; Reference the reference's samples judged by
	// the same classifier (20-NFE midpoint, one row per guidance weight).
	Images    []*ImageModel     `json:"images,omitempty"`
	Reference *eval.ImageResult `json:"reference,omitempty"`
}

// SkippedModels is how many model files were left out entirely.
func (r *Results) SkippedModels() int {
	k := 0
	for _, s := range r.Skipped {
		if s.Part == PartModel {
			k++
		}
	}
	return k
}

func (o *Options) fill() error {
	if o.Models == "" {
		o.Models = "weights"
	}
	if o.Out == "" {
		o.Out = "results"
	}
	if o.SweepN == 0 {
		o.SweepN = 1000
	}
	if o.QualityN == 0 {
		o.QualityN = 2000
	}
	if o.Target == 0 {
		o.Target = 1.5
	}
	if o.FashionDir == "" {
		o.FashionDir = dataset.FashionMNISTDir
	}
	if o.ImageN == 0 {
		o.ImageN = 10000
	}
	if o.ImageSweepN == 0 {
		o.ImageSweepN = 2000
	}
	if o.ImageN < 2 || o.ImageSweepN < 2 || max(o.ImageN, o.ImageSweepN) > MaxImageN {
		return fmt.Errorf("report: image n = %d and sweep n = %d, want 2 to %d", o.ImageN, o.ImageSweepN, MaxImageN)
	}
	if o.SweepN < 2 || o.SweepN > metrics.MaxN {
		return fmt.Errorf("report: sweep n = %d, want 2 to %d", o.SweepN, metrics.MaxN)
	}
	if o.QualityN < 2 || o.QualityN > eval.MaxN {
		return fmt.Errorf("report: quality n = %d, want 2 to %d", o.QualityN, eval.MaxN)
	}
	return nil
}

// Run evaluates every model in opt.Models and writes the plots, results.json and
// README.md into opt.Out. A model that cannot be read or measured is left out, with a
// warning on opt.Stderr and a line in README.md; Run fails only when no model is left,
// or for the options and the output.
func Run(opt Options) (*Results, error) {
	if err := opt.fill(); err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(opt.Models, "*.safetensors"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("report: %s: %w", opt.Models, ErrNoModels)
	}
	sort.Strings(files)
	if err := checkOut(opt.Out); err != nil {
		return nil, err
	}
	r := &run{opt: opt, res: &Results{SweepFloor: map[string]float64{}, SweepN: opt.SweepN, Target: opt.Target}}
	loaded, images := r.load(files)
	r.bar = progress.New(opt.Stderr, int64(len(loaded)+plan(loaded).units()), progress.Options{Desc: "report", Unit: "runs"})
	defer r.bar.Finish()

	r.quality(loaded)
	if len(r.res.Models) == 0 && len(images.models) == 0 {
		return nil, noUsable(opt.Models, len(files), r.res.Skipped)
	}
	p := plan(r.res.Models)
	r.bar.Add(plan(loaded).units() - p.units()) // the sweeps of models that failed
	compared, err := r.sweeps(p)
	if err != nil {
		return nil, err
	}
	densities, err := r.densities(p)
	if err != nil {
		return nil, err
	}
	r.bar.Finish()
	if err := runImages(opt, images, r.res, r.skip); err != nil {
		return nil, err
	}
	if len(r.res.Models) == 0 && len(r.res.Images) == 0 {
		return nil, noUsable(opt.Models, len(files), r.res.Skipped)
	}
	if err := r.write(compared, densities); err != nil {
		return nil, err
	}
	return r.res, nil
}

// checkOut makes the output folder and checks its two files can be written, before the
// hours of work rather than at their end.
func checkOut(out string) error {
	if st, err := os.Stat(out); err == nil && !st.IsDir() {
		return fmt.Errorf("report: output %s: %w", out, ErrOutNotFolder)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for _, name := range []string{"README.md", "results.json"} {
		if err := outfile.Check(filepath.Join(out, name)); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	return nil
}

// run is one Run's state: the results so far and the progress bar over them.
type run struct {
	opt Options
	res *Results
	bar *progress.Bar
}

// skip leaves file out of part, with a line on the progress bar's stream.
func (r *run) skip(file, part string, err error) {
	reason := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
	r.res.Skipped = append(r.res.Skipped, Skipped{File: file, Part: part, Reason: reason})
	if r.opt.Stderr == nil {
		return
	}
	line := fmt.Sprintf("report: %s left out of the %s figure: %s", file, part, reason)
	switch part {
	case PartModel:
		line = fmt.Sprintf("report: skipping %s: %s", file, reason)
	case PartImages:
		line = fmt.Sprintf("report: no image section for %s: %s", file, reason)
	case PartReference:
		line = fmt.Sprintf("report: the reference %s left out: %s", file, reason)
	}
	r.bar.Println(r.opt.Stderr, line)
}

// load reads every file: the 2-D models that can run, and apart from them the image
// models and the first classifier (unless one was given).
func (r *run) load(files []string) ([]*Model, imageInput) {
	var loaded []*Model
	images := imageInput{classifier: r.opt.Classifier, files: map[string]*weights.File{}}
	for _, file := range files {
		f, err := weights.ReadFile(file)
		if err == nil && isImage(f) {
			if f.Meta.Arch == weights.ArchClassifier {
				if images.classifier == "" {
					images.classifier = file
				}
			} else {
				images.models = append(images.models, file)
				images.files[file] = f
			}
			continue
		}
		if err == nil {
			_, _, err = f.Model() // a file that decodes but cannot run fails here, not mid-sweep
		}
		if err != nil {
			r.skip(filepath.Base(file), PartModel, err)
			continue
		}
		m := &Model{File: filepath.Base(file), f: f, Label: f.Meta.Path.Name}
		if f.Meta.Provenance.Coupling == "ot" {
			m.Label += " OT-CFM"
		}
		loaded = append(loaded, m)
	}
	return loaded, images
}

// quality evaluates each 2-D model; those that pass go into the results.
func (r *run) quality(loaded []*Model) {
	for _, m := range loaded {
		r.bar.Describe("quality " + m.File)
		// On the fixed-proportion datasets the i.i.d. floor spreads more between draws
		// than the data floor (5–20% a draw against 1–10%), so it averages more; the
		// data floor keeps eval's default, and so its published figures.
		eo := eval.Options{Seed: r.opt.Seed, N: r.opt.QualityN, IIDFloorReps: IIDFloorReps}
		q, err := eval.Evaluate(m.f, eo)
		r.bar.Add(1)
		if err != nil {
			r.skip(m.File, PartModel, err)
			continue
		}
		m.Quality = q
		m.Quality.Model = m.File
		r.res.Models = append(r.res.Models, m)
	}
}

// sweeps draws, for each dataset with models to compare, W₂ against NFE and the
// trajectories; it returns the datasets drawn.
func (r *run) sweeps(p figures) ([]string, error) {
	var compared []string
	for _, name := range p.compared {
		var err error
		if r.res.SweepFloor[name], err = Floor(name, r.opt.SweepN, 3, r.opt.Seed); err != nil {
			return nil, err
		}
		sweeps := map[string][]Point{}
		states := map[string][][]float32{}
		straight := map[string]float64{}
		for _, label := range sortedKeys(p.byData[name]) {
			m := p.byData[name][label]
			r.bar.Describe("sweep " + m.File)
			ticks := 0
			sw, err := Sweep(m.f, r.opt.SweepN, r.opt.Seed, func() { ticks++; r.bar.Add(1) })
			var st [][]float32
			if err == nil {
				st, err = Trajectories(m.f, 300, 20, r.opt.Seed)
			}
			if err != nil {
				r.bar.Add(SweepRuns() - ticks)
				r.skip(m.File, PartSweep, err)
				continue
			}
			m.Sweep, m.Straightness = sw, Straightness(st, 2)
			sweeps[label], states[label], straight[label] = sw, st, m.Straightness
		}
		r.bar.Add(1)
		if len(sweeps) == 0 {
			continue
		}
		if err := PlotW2vsNFE(filepath.Join(r.opt.Out, "w2-nfe-"+name+".png"), name, r.res.SweepFloor[name], sweeps); err != nil {
			return nil, err
		}
		if err := PlotTrajectories(filepath.Join(r.opt.Out, "trajectories-"+name+".png"), name, states, straight, 5); err != nil {
			return nil, err
		}
		compared = append(compared, name)
	}
	return compared, nil
}

// densities draws the learned density of each dataset's OT model beside the true one;
// it reports whether it drew any.
func (r *run) densities(p figures) (bool, error) {
	var pairs []DensityPair
	for _, name := range sortedKeys(p.byData) {
		m := p.byData[name]["ot"]
		if m == nil {
			continue
		}
		r.bar.Describe("density " + name)
		learned, err := LearnedDensity(m.f, 4.5, 64, 10)
		if err != nil {
			r.skip(m.File, PartDensity, err)
			continue
		}
		truth, err := TrueDensity(name, 4.5, 64, 200000, r.opt.Seed)
		if err != nil {
			return false, err
		}
		pairs = append(pairs, DensityPair{Name: name, True: truth, Learned: learned})
	}
	if len(pairs) == 0 {
		return false, nil
	}
	return true, PlotDensities(filepath.Join(r.opt.Out, "density.png"), pairs)
}

// write writes results.json and README.md.
func (r *run) write(compared []string, densities bool) error {
	js, err := json.MarshalIndent(r.res, "", "  ")
	if err != nil {
		return fmt.Errorf("report: results.json: %w", err)
	}
	if err := outfile.WriteFile(filepath.Join(r.opt.Out, "results.json"), js); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := outfile.WriteFile(filepath.Join(r.opt.Out, "README.md"), []byte(Markdown(r.res, compared, densities))); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// noUsable is Run's error when every model was left out.
func noUsable(models string, files int, skipped []Skipped) error {
	if len(skipped) == 0 {
		return fmt.Errorf("report: %s holds only classifiers, no model to measure", models)
	}
	s := skipped[0]
	return fmt.Errorf("report: no usable model in %s: all %d left out (the first, %s: %s)", models, files, s.File, s.Reason)
}

// figures is what the report draws for a set of models: the models of each dataset
// by label, and the datasets with more than one path, which get the sweep and the
// trajectory figure (with the OT-CFM model beside the paths' I-CFM ones, where there
// is one).
type figures struct {
	byData   map[string]map[string]*Model // dataset → label → model
	compared []string
}

func plan(models []*Model) figures {
	p := figures{byData: map[string]map[string]*Model{}}
	for _, m := range models {
		name := m.f.Meta.Data.Name
		if p.byData[name] == nil {
			p.byData[name] = map[string]*Model{}
		}
		p.byData[name][m.Label] = m
	}
	for name, models := range p.byData {
		paths := map[string]bool{}
		for _, m := range models {
			paths[m.f.Meta.Path.Name] = true
		}
		if len(paths) > 1 {
			p.compared = append(p.compared, name)
		}
	}
	sort.Strings(p.compared)
	return p
}

// units is the progress bar's count for the sweeps: a run per solver setting and
// model, and one per dataset for its plots.
func (p figures) units() int {
	k := len(p.compared)
	for _, name := range p.compared {
		k += len(p.byData[name]) * SweepRuns()
	}
	return k
}

// intro2D opens the page when it has models of points.
func intro2D() string {
	return "Regenerated by `make results` (`flowmatch report`). W2 is measured by exact optimal assignment between " +
		"2,000 model samples (20-NFE midpoint) and 2,000 fresh data points, over two floors. " +
		"The **data floor** is the mean W2 between two fresh 2,000-point data draws (3 draws): W2 / data floor = 1 means " +
		"the samples are as close to the data as the data is to itself. The **i.i.d. floor** is the mean W2 between " +
		"2,000 points resampled i.i.d. from a 200,000-point data draw and 2,000 fresh data points (" + fmt.Sprint(IIDFloorReps) +
		" draws): what a model indistinguishable from the data scores. " +
		"The two floors agree, to their spread between draws (about 20% a draw on 8gaussians), except where the dataset " +
		"draws a fixed number of points per mode (moons, rings, circles, " +
		"pinwheel; 2spirals too, but its spirals interleave too closely for it to show): two data draws balance exactly there, " +
		"while a model, or the true distribution sampled i.i.d., puts a binomial number of points in each mode, so even a " +
		"perfect model scores above the data floor. W2 / i.i.d. floor is the figure a perfect model brings to 1 on every dataset. " +
		"MMD² is the biased RBF estimate at bandwidth 0.2. NLL is the mean negative log-likelihood of fresh data in nats, " +
		"through the continuity equation with the exact divergence (RK4, 20 steps).\n\n"
}

// Markdown renders the results as the page results/README.md.
func Markdown(res *Results, compared []string, density bool) string {
	var b strings.Builder
	b.WriteString("# Results: the shipped models\n\n")
	tableHeader := "| model | dataset | path | W2 | data floor | W2 / data floor | i.i.d. floor | W2 / i.i.d. floor | MMD² (σ=0.2) | NLL (nats) |\n" +
		"|---|---|---|---|---|---|---|---|---|---|\n"
	if len(res.Models) > 0 {
		b.WriteString(intro2D())
		b.WriteString(tableHeader)
	} else {
		b.WriteString("Regenerated by `make results` (`flowmatch report`).\n")
	}
	for _, m := range res.Models {
		q := m.Quality
		b.WriteString(fmt.Sprintf("| %s | %s | %s | %.4f | %.4f | **%.2f** | %.4f | **%.2f** | %.1e | %.3f |\n",
			m.File, q.Dataset, m.Label, q.W2, q.W2Floor, q.W2Ratio, q.W2IIDFloor, q.W2IIDRatio, mmdAt(q, 0.2), q.NLL))
	}
	if len(res.Skipped) > 0 {
		b.WriteString("\n## Left out\n\nThese files, or their part in a figure, could not be measured:\n\n")
		for _, s := range res.Skipped {
			what := "the whole model"
			switch s.Part {
			case PartSweep:
				what = "the paths-and-solvers sweep"
			case PartDensity:
				what = "the density figure"
			case PartImages:
				what = "the image section"
			case PartReference:
				what = "the reference's samples"
			}
			b.WriteString(fmt.Sprintf("- `%s` (%s): %s\n", s.File, what, s.Reason))
		}
	}
	for _, name := range compared {
		b.WriteString(fmt.Sprintf("\n## %s: paths and solvers\n\n", name))
		b.WriteString(fmt.Sprintf("Fewest NFE at which each path and solver reach W2 ≤ %.1f× the data floor (n = %d, floor %.4f); "+
			"— where no budget up to 64 (or dopri5 tolerance down to 1e-4) did. Straightness is the mean ratio of "+
			"displacement to trajectory length (1 = straight lines). An \"ot OT-CFM\" row is the OT path trained with the OT coupling "+
			"(noise and data paired by optimal transport within each minibatch) instead of the independent one (I-CFM) of the others.\n\n", res.Target, res.SweepN, res.SweepFloor[name]))
		b.WriteString("| path | euler | midpoint | heun | rk4 | dopri5 | straightness | best W2 / data floor |\n|---|---|---|---|---|---|---|---|\n")
		for _, m := range res.Models {
			if m.Quality.Dataset != name || m.Sweep == nil {
				continue
			}
			target := res.Target * res.SweepFloor[name]
			b.WriteString("| " + m.Label)
			best := math.Inf(1)
			for _, s := range []string{"euler", "midpoint", "heun", "rk4", "dopri5"} {
				if k := MinNFE(m.Sweep, s, target); k > 0 {
					b.WriteString(fmt.Sprintf(" | %d", k))
				} else {
					b.WriteString(" | —")
				}
			}
			for _, p := range m.Sweep {
				best = math.Min(best, p.W2/res.SweepFloor[name])
			}
			b.WriteString(fmt.Sprintf(" | %.3f | %.2f |\n", m.Straightness, best))
		}
		b.WriteString(fmt.Sprintf("\n![W2 against NFE, %s](w2-nfe-%s.png)\n\n![Trajectories, %s](trajectories-%s.png)\n", name, name, name, name))
	}
	if density {
		b.WriteString("\n## Learned density beside the data\n\n![Densities](density.png)\n")
	}
	imageMarkdown(&b, res)
	return b.String()
}

func mmdAt(q *eval.Result, bw float64) float64 {
	for i, b := range q.Bandwidths {
		if b == bw {
			return q.MMD[i]
		}
	}
	return math.NaN()
}
