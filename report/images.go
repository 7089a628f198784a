package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/flowmatch/flowmatch/classifier"
	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/eval"
	"github.com/flowmatch/flowmatch/progress"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/unet"
	"github.com/flowmatch/flowmatch/weights"
)

// What the image section measures: every guidance weight at every NFE (midpoint, so NFE
// 2 is one step), the headline at HeadlineNFE, and grids with GridGuidance.
var (
	ImageGuidance = []float64{0, 1, 2}
	ImageNFE      = []int{2, 4, 8, 20}
)

const (
	HeadlineNFE  = 20
	GridGuidance = 1.0
	gridColumns  = 8 // images per class in a grid
	gridScale    = 2
)

// PartImages: an image model's section, left out (no classifier, no Fashion-MNIST, a
// solve that diverged); PartReference: the reference's samples, left out.
const (
	PartImages    = "images"
	PartReference = "reference"
)

// ImageModel is what the report measured of one image model (arch unet).
type ImageModel struct {
	File       string `json:"file"`
	Classifier string `json:"classifier"`
	// Headline: ImageN samples per guidance at 20-NFE midpoint, judged beside the floor
	// of ImageN real training images.
	Headline *eval.ImageResult `json:"headline"`
	Sweep    ImageSweep        `json:"sweep"`
	// VsReference is, per row of Headline, its FD over the reference's at the same
	// guidance (absent without the reference's samples).
	VsReference []float64 `json:"fd_vs_reference,omitempty"`
	Grids       []string  `json:"grids"`    // PNG files in the output folder, one per NFE of GridNFE
	GridNFE     []int     `json:"grid_nfe"` // the grids' NFE, in order
	Plots       []string  `json:"plots"`    // accuracy and FD against NFE
}

// ImageSweep is the classifier's figures against NFE at N samples a point.
type ImageSweep struct {
	N             int          `json:"n"`
	FloorFD       float64      `json:"fd_floor"`
	FloorAccuracy float64      `json:"floor_accuracy"`
	Points        []ImagePoint `json:"points"`
}

// ImagePoint is one guidance weight at one NFE.
type ImagePoint struct {
	Guidance float64 `json:"guidance"`
	NFE      int     `json:"nfe"`
	Accuracy float64 `json:"accuracy"`
	FD       float64 `json:"fd"`
	FDRatio  float64 `json:"fd_ratio"` // FD / the sweep's floor
}

// isImage says whether a file read from the models folder is an image model or a
// classifier, which the image section takes, not the points' table.
func isImage(f *weights.File) bool {
	return f.Meta.Arch == weights.ArchUNet || f.Meta.Arch == weights.ArchClassifier || f.Meta.Data.IsImage()
}

// judge reads the classifier and Fashion-MNIST: the test set's features are computed once
// for every image model.
func loadJudge(path, fashionDir string) (*eval.Judge, error) {
	net, err := classifier.Load(path)
	if err != nil {
		return nil, fmt.Errorf("the classifier: %w", err)
	}
	train, test, err := dataset.FashionMNIST(fashionDir)
	if err != nil {
		return nil, fmt.Errorf("Fashion-MNIST (the test set and the floor's real images): %w", err)
	}
	return eval.NewJudge(net, train, test)
}

// sampleKey is one sampling run: a guidance weight at an NFE.
type sampleKey struct {
	w   float64
	nfe int
}

// imageSampler draws an image model's samples and keeps them, so that a run of n
// images serves any later request for at most n at the same guidance and NFE: the noise
// of image i depends only on the seed and i (eval.SampleImages draws all of it first),
// so the first m of n images are the m images a run of m would draw.
type imageSampler struct {
	net   *unet.Net
	data  weights.DataInfo
	seed  uint64
	have  map[sampleKey][]float32 // pixels in [0, 1]
	bar   *progress.Bar
	done  int64 // network passes so far, the bar's count
	dryN  map[sampleKey]int
	total int64
}

// request is one use of samples.
type request struct {
	sampleKey
	n int
}

// passes is what sampling n images costs in network evaluations.
func (k sampleKey) passes(n int) int64 {
	per := int64(k.nfe)
	if k.w != 0 {
		per *= 2 // a guided evaluation runs the conditional and the null class
	}
	return per * int64(n)
}

// plan adds a request's cost to the total, as get will run it.
func (s *imageSampler) plan(r request) {
	if s.dryN[r.sampleKey] < r.n {
		s.dryN[r.sampleKey] = r.n
		s.total += r.sampleKey.passes(r.n)
	}
}

// get returns the pixels of the first n images of guidance w at nfe, image i of class
// i mod the model's classes.
func (s *imageSampler) get(r request) ([]float32, error) {
	d := s.net.Config().Dim()
	if x := s.have[r.sampleKey]; len(x) >= r.n*d {
		return x[:r.n*d], nil
	}
	s.bar.Describe(fmt.Sprintf("images: guidance %g, NFE %d", r.w, r.nfe))
	base := s.done
	x, err := eval.SampleImages(s.net, eval.ImageOptions{N: r.n, Guidance: r.w, Solver: sampler.Midpoint, NFE: r.nfe, Seed: s.seed,
		Progress: func(done, _ int) { s.bar.Set(base + r.passes(done)) }})
	if err != nil {
		return nil, fmt.Errorf("guidance %g, NFE %d: %w", r.w, r.nfe, err)
	}
	s.done = base + r.passes(r.n)
	s.data.ToPixels(x)
	s.have[r.sampleKey] = x
	return x, nil
}

// labels are the intended classes of n samples: i mod classes.
func labels(n, classes int) []int {
	y := make([]int, n)
	for i := range y {
		y[i] = i % classes
	}
	return y
}

// imageMarkdown renders the image section of results/README.md.
func imageMarkdown(b *strings.Builder, res *Results) {
	for _, m := range res.Images {
		h := m.Headline
		fmt.Fprintf(b, "\n## Images: %s\n\n", m.File)
		fmt.Fprintf(b, "Class-conditional samples (sample i of class i mod 10, the same noise for every guidance weight w), "+
			"judged by the Fashion-MNIST classifier `%s` (accuracy %.4f on the real test images): **accuracy** is its "+
			"accuracy against the classes the samples were drawn for; **FD** the Fréchet distance between the samples' and "+
			"the test set's penultimate features (lower is better). The **floor** is n real training images against the same "+
			"test set: what a model that reproduced the data scores at this n (FD is biased upwards by O(1/n), so only "+
			"figures at the same n compare).\n\n", m.Classifier, h.TestAccuracy)
		fmt.Fprintf(b, "### At %d NFE (midpoint), n = %s per row\n\n", h.NFE, thousands(h.N))
		b.WriteString("| samples | accuracy | FD | FD / floor |")
		if res.Reference != nil {
			b.WriteString(" FD / reference's |")
		}
		b.WriteString("\n|---|---|---|---|" + map[bool]string{true: "---|", false: ""}[res.Reference != nil] + "\n")
		for i, r := range h.Rows {
			fmt.Fprintf(b, "| %s (w = %g) | **%.4f** | **%.2f** | %.2f× |", m.File, *r.Guidance, r.Accuracy, r.FD, r.FDRatio)
			if res.Reference != nil {
				fmt.Fprintf(b, " **%.2f** |", m.VsReference[i])
			}
			b.WriteString("\n")
		}
		if ref := res.Reference; ref != nil {
			for _, r := range ref.Rows {
				fmt.Fprintf(b, "| reference, `%s` (n = %s) | %.4f | %.2f | %.2f× | 1 |\n", r.Source, thousands(ref.N), r.Accuracy, r.FD, r.FDRatio)
			}
		}
		fmt.Fprintf(b, "| floor: %s real training images | %.4f | %.2f | 1× |%s\n", thousands(h.N), h.FloorAccuracy, h.FloorFD,
			map[bool]string{true: " |", false: ""}[res.Reference != nil])
		if res.Reference != nil {
			b.WriteString("\nThe reference is `../shared/bench/pytorch_fmnist.py`'s U-Net trained for its default recipe (`make results` " +
				"runs it once into build/), its samples at the same NFE judged here by the same classifier; FD / reference's is " +
				"the model's FD over the reference's at the same guidance.")
			if res.Reference.N != h.N {
				fmt.Fprintf(b, " **The reference holds %s samples a row and the model's rows %s**: FD's bias of O(1/n) differs, so the ratio is only indicative.",
					thousands(res.Reference.N), thousands(h.N))
			}
			b.WriteString("\n")
		}
		goalsMarkdown(b, m, res.Reference)
		sweepMarkdown(b, m)
	}
}

// goalsMarkdown states issue 14's goals beside the headline's figures. The FD goal is
// judged only against a reference of the same n (FD's bias differs between sizes).
func goalsMarkdown(b *strings.Builder, m *ImageModel, ref *eval.ImageResult) {
	b.WriteString("\n| goal (issue 14) | measured | met |\n|---|---|---|\n")
	met := map[bool]string{true: "yes", false: "**no**"}
	for i, r := range m.Headline.Rows {
		switch *r.Guidance {
		case 1:
			fmt.Fprintf(b, "| accuracy with guidance 1 ≥ 0.93 | %.4f | %s |\n", r.Accuracy, met[r.Accuracy >= 0.93])
		case 0:
			fmt.Fprintf(b, "| accuracy without guidance ≥ 0.85 | %.4f | %s |\n", r.Accuracy, met[r.Accuracy >= 0.85])
		}
		if ref == nil || !(m.VsReference[i] >= 0) {
			continue
		}
		verdict := met[m.VsReference[i] <= 0.5]
		if ref.N != m.Headline.N {
			verdict = fmt.Sprintf("not judged: the reference's n is %s, the model's %s", thousands(ref.N), thousands(m.Headline.N))
		}
		fmt.Fprintf(b, "| FD ≤ ½ the reference's, w = %g | %.2f× | %s |\n", *r.Guidance, m.VsReference[i], verdict)
	}
}

// sweepMarkdown is the figures against NFE: tables, plots and grids.
func sweepMarkdown(b *strings.Builder, m *ImageModel) {
	sw := m.Sweep
	fmt.Fprintf(b, "\n### Against NFE (midpoint; NFE 2 is one step), n = %s per point\n\n", thousands(sw.N))
	for _, t := range []struct {
		name  string
		floor float64
		f     func(ImagePoint) float64
		form  string
	}{{"accuracy", sw.FloorAccuracy, func(p ImagePoint) float64 { return p.Accuracy }, "%.4f"},
		{"FD", sw.FloorFD, func(p ImagePoint) float64 { return p.FD }, "%.2f"}} {
		fmt.Fprintf(b, "| %s |", t.name)
		for _, k := range ImageNFE {
			fmt.Fprintf(b, " NFE %d |", k)
		}
		b.WriteString("\n|---|" + strings.Repeat("---|", len(ImageNFE)) + "\n")
		for _, w := range ImageGuidance {
			fmt.Fprintf(b, "| w = %g |", w)
			for _, k := range ImageNFE {
				for _, p := range sw.Points {
					if p.Guidance == w && p.NFE == k {
						fmt.Fprintf(b, " "+t.form+" |", t.f(p))
					}
				}
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(b, "| floor: %s real | "+t.form+" |%s\n\n", thousands(sw.N), t.floor, strings.Repeat(" |", len(ImageNFE)-1))
	}
	fmt.Fprintf(b, "![Accuracy against NFE](%s)\n\n![FD against NFE](%s)\n\n", m.Plots[0], m.Plots[1])
	fmt.Fprintf(b, "Samples with guidance %g at %s NFE, from the same noise (a row per class):\n\n|", GridGuidance, joinInts(m.GridNFE))
	for _, k := range m.GridNFE {
		fmt.Fprintf(b, " NFE %d |", k)
	}
	b.WriteString("\n|" + strings.Repeat("---|", len(m.GridNFE)) + "\n|")
	for i, g := range m.Grids {
		fmt.Fprintf(b, " ![%d NFE](%s) |", m.GridNFE[i], g)
	}
	b.WriteString("\n")
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, k := range v {
		s[i] = strconv.Itoa(k)
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// thousands writes n with commas: 10,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
