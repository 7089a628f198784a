package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/schollz/progressbar/v3"

	"github.com/flowmatch/flowmatch/eval"
	"github.com/flowmatch/flowmatch/weights"
)

// Options for [Run]. The zero value reads weights/ and writes results/.
type Options struct {
	Models string // folder of *.safetensors model files (default "weights")
	Out    string // output folder (default "results")
	Seed   uint64
	// SweepN is the number of points of each sweep run (default 1,000).
	SweepN int
	// QualityN is the number of points of the quality table's measurements (default 2,000).
	QualityN int
	// Target is the W2 / floor level whose NFE the comparison table reports (default 1.5).
	Target float64
	// Progress, if set, receives a progress bar.
	Progress io.Writer
	// Terminal says whether Progress is a terminal (a redrawn bar) or a log (lines).
	Terminal bool
}

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

// Results is everything the report measured; results.json holds it.
type Results struct {
	Models     []*Model           `json:"models"`
	SweepFloor map[string]float64 `json:"sweep_floor"` // W2 floor at SweepN, per dataset
	SweepN     int                `json:"sweep_n"`
	Target     float64            `json:"target"`
}

// Run evaluates every model in opt.Models and writes the plots, results.json and
// README.md into opt.Out.
func Run(opt Options) (*Results, error) {
	if opt.Models == "" {
		opt.Models = "weights"
	}
	if opt.Out == "" {
		opt.Out = "results"
	}
	if opt.SweepN == 0 {
		opt.SweepN = 1000
	}
	if opt.QualityN == 0 {
		opt.QualityN = 2000
	}
	if opt.Target == 0 {
		opt.Target = 1.5
	}
	files, err := filepath.Glob(filepath.Join(opt.Models, "*.safetensors"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("report: no *.safetensors models in %s", opt.Models)
	}
	sort.Strings(files)
	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		return nil, err
	}
	res := &Results{SweepFloor: map[string]float64{}, SweepN: opt.SweepN, Target: opt.Target}
	byData := map[string]map[string]*Model{} // dataset → label → model
	for _, file := range files {
		f, err := weights.ReadFile(file)
		if err != nil {
			return nil, err
		}
		m := &Model{File: filepath.Base(file), f: f}
		res.Models = append(res.Models, m)
		name := f.Meta.Data.Name
		if byData[name] == nil {
			byData[name] = map[string]*Model{}
		}
		m.Label = f.Meta.Path.Name
		if f.Meta.Provenance.Coupling == "ot" {
			m.Label += " OT-CFM"
		}
		byData[name][m.Label] = m
	}
	// Datasets with more than one path get the sweep and the trajectory figure (with the
	// OT-CFM model beside the paths' I-CFM ones, where there is one).
	var compared []string
	for name, models := range byData {
		paths := map[string]bool{}
		for _, m := range models {
			paths[m.f.Meta.Path.Name] = true
		}
		if len(paths) > 1 {
			compared = append(compared, name)
		}
	}
	sort.Strings(compared)
	total := len(res.Models) + len(compared)
	for _, name := range compared {
		total += len(byData[name]) * SweepRuns()
	}
	bar := newBar(opt, total)
	defer bar.Finish()

	for _, m := range res.Models {
		bar.Describe("quality " + m.File)
		// On the fixed-proportion datasets the i.i.d. floor spreads more between draws
		// than the data floor (5–20% a draw against 1–10%), so it averages more; the
		// data floor keeps eval's default, and so its published figures.
		eo := eval.Options{Seed: opt.Seed, N: opt.QualityN, IIDFloorReps: IIDFloorReps}
		if m.Quality, err = eval.Evaluate(m.f, eo); err != nil {
			return nil, fmt.Errorf("report: %s: %w", m.File, err)
		}
		m.Quality.Model = m.File
		bar.Add(1)
	}
	for _, name := range compared {
		if res.SweepFloor[name], err = Floor(name, opt.SweepN, 3, opt.Seed); err != nil {
			return nil, err
		}
		sweeps := map[string][]Point{}
		states := map[string][][]float32{}
		straight := map[string]float64{}
		for path, m := range byData[name] {
			bar.Describe(fmt.Sprintf("sweep %s", m.File))
			if m.Sweep, err = Sweep(m.f, opt.SweepN, opt.Seed, func() { bar.Add(1) }); err != nil {
				return nil, err
			}
			sweeps[path] = m.Sweep
			if states[path], err = Trajectories(m.f, 300, 20, opt.Seed); err != nil {
				return nil, err
			}
			m.Straightness = Straightness(states[path], 2)
			straight[path] = m.Straightness
		}
		if err := PlotW2vsNFE(filepath.Join(opt.Out, "w2-nfe-"+name+".png"), name, res.SweepFloor[name], sweeps); err != nil {
			return nil, err
		}
		if err := PlotTrajectories(filepath.Join(opt.Out, "trajectories-"+name+".png"), name, states, straight, 5); err != nil {
			return nil, err
		}
		bar.Add(1)
	}
	var pairs []DensityPair
	for _, name := range sortedKeys(byData) {
		m := byData[name]["ot"]
		if m == nil {
			continue
		}
		bar.Describe("density " + name)
		learned, err := LearnedDensity(m.f, 4.5, 64, 10)
		if err != nil {
			return nil, err
		}
		truth, err := TrueDensity(name, 4.5, 64, 200000, opt.Seed)
		if err != nil {
			return nil, err
		}
		pairs = append(pairs, DensityPair{Name: name, True: truth, Learned: learned})
	}
	if len(pairs) > 0 {
		if err := PlotDensities(filepath.Join(opt.Out, "density.png"), pairs); err != nil {
			return nil, err
		}
	}
	js, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeAtomic(filepath.Join(opt.Out, "results.json"), js); err != nil {
		return nil, err
	}
	if err := writeAtomic(filepath.Join(opt.Out, "README.md"), []byte(Markdown(res, compared, len(pairs) > 0))); err != nil {
		return nil, err
	}
	return res, nil
}

func newBar(opt Options, total int) *progressbar.ProgressBar {
	w := opt.Progress
	if w == nil {
		w = io.Discard
	}
	opts := []progressbar.Option{progressbar.OptionSetWriter(w), progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true), progressbar.OptionShowIts(), progressbar.OptionSetItsString("runs"),
		progressbar.OptionFullWidth()}
	if !opt.Terminal {
		// In a log, a line every few seconds instead of a redrawn bar.
		opts = append(opts, progressbar.OptionThrottle(5e9), progressbar.OptionUseANSICodes(false),
			progressbar.OptionSetRenderBlankState(false), progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
	}
	return progressbar.NewOptions(total, opts...)
}

// Markdown renders the results as the page results/README.md.
func Markdown(res *Results, compared []string, density bool) string {
	var b strings.Builder
	b.WriteString("# Results: the shipped models\n\n")
	b.WriteString("Regenerated by `make results` (`flowmatch report`). W2 is measured by exact optimal assignment between " +
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
		"through the continuity equation with the exact divergence (RK4, 20 steps).\n\n")
	b.WriteString("| model | dataset | path | W2 | data floor | W2 / data floor | i.i.d. floor | W2 / i.i.d. floor | MMD² (σ=0.2) | NLL (nats) |\n" +
		"|---|---|---|---|---|---|---|---|---|---|\n")
	for _, m := range res.Models {
		q := m.Quality
		b.WriteString(fmt.Sprintf("| %s | %s | %s | %.4f | %.4f | **%.2f** | %.4f | **%.2f** | %.1e | %.3f |\n",
			m.File, q.Dataset, m.Label, q.W2, q.W2Floor, q.W2Ratio, q.W2IIDFloor, q.W2IIDRatio, mmdAt(q, 0.2), q.NLL))
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

func writeAtomic(file string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}
