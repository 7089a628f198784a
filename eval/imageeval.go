package eval

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/classifier"
	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/unet"
	"github.com/flowmatch/flowmatch/weights"
)

// Judge scores images with a classifier against a labelled data set: the accuracy of
// its predictions, and the Fréchet distance between the images' penultimate features
// and the test images' (computed once, in NewJudge).
type Judge struct {
	Net   *classifier.Net
	Train *dataset.Images // where the floor's real images come from
	Test  *dataset.Images
	// TestAccuracy is the classifier's accuracy on the test images.
	TestAccuracy float64

	test metrics.Moments
}

// NewJudge computes the test set's feature moments and the classifier's accuracy on it.
// The sets are dataset.Images ([-1, 1]); the classifier sees them as intensities.
func NewJudge(net *classifier.Net, train, test *dataset.Images) (*Judge, error) {
	if d := train.Dim(); d != net.Dim() || test.Dim() != d {
		return nil, fmt.Errorf("eval: the classifier takes %d pixels, the data sets have %d and %d", net.Dim(), d, test.Dim())
	}
	feat, pred := net.FeaturesAndPredict(Intensities(test.X))
	m, err := metrics.NewMoments(feat, net.Spec().Hidden)
	if err != nil {
		return nil, fmt.Errorf("eval: test features: %w", err)
	}
	// Features that are the same for every image (an untrained or broken classifier)
	// make every distance 0 and every ratio to the floor 0/0: no judge at all.
	var spread float64
	for i := range m.Dim() {
		spread += m.Cov[i*m.Dim()+i]
	}
	if !(spread > 0) {
		return nil, fmt.Errorf("eval: the classifier's %d features do not vary over the %d test images: it cannot judge images", m.Dim(), m.N)
	}
	return &Judge{Net: net, Train: train, Test: test, TestAccuracy: accuracy(pred, labelsOf(test, len(pred))), test: m}, nil
}

// Intensities maps dataset.Images' values (p/127.5 − 1) to [0, 1].
func Intensities(x []float32) []float32 {
	p := make([]float32, len(x))
	for i, v := range x {
		p[i] = (v + 1) / 2
	}
	return p
}

func labelsOf(d *dataset.Images, n int) []int {
	y := make([]int, n)
	for i := range y {
		y[i] = int(d.Y[i])
	}
	return y
}

func accuracy(pred, labels []int) float64 {
	hit := 0
	for i, p := range pred {
		if p == labels[i] {
			hit++
		}
	}
	return float64(hit) / float64(len(pred))
}

// Score returns the classifier's accuracy on pixels (n images, intensities in [0, 1])
// against labels, and the Fréchet distance between their features and the test
// images'. n must be at least 2.
func (j *Judge) Score(pixels []float32, labels []int) (acc, fd float64, err error) {
	d := j.Net.Dim()
	if len(pixels)%d != 0 || len(pixels)/d != len(labels) || len(labels) < 2 {
		return 0, 0, fmt.Errorf("eval: %d values and %d labels, want n ≥ 2 images of %d pixels and one label each", len(pixels), len(labels), d)
	}
	for i, l := range labels {
		if l < 0 || l >= j.Net.Spec().Classes {
			return 0, 0, fmt.Errorf("eval: label %d is %d, want a class 0 to %d", i, l, j.Net.Spec().Classes-1)
		}
	}
	feat, pred := j.Net.FeaturesAndPredict(pixels)
	m, err := metrics.NewMoments(feat, j.Net.Spec().Hidden)
	if err != nil {
		return 0, 0, fmt.Errorf("eval: features: %w", err)
	}
	fd, err = metrics.FrechetDistance(m, j.test)
	if err != nil {
		return 0, 0, fmt.Errorf("eval: %w", err)
	}
	return accuracy(pred, labels), fd, nil
}

// Floor is the Fréchet distance between n training images, drawn without replacement
// from seed, and the test set: what a model that reproduced the data scores at this n
// (the distance is biased upwards by O(1/n)). It returns their accuracy too.
func (j *Judge) Floor(n int, seed uint64) (acc, fd float64, err error) {
	if n < 2 || n > j.Train.N {
		return 0, 0, fmt.Errorf("eval: a floor of %d real images, want 2 to %d (the training set)", n, j.Train.N)
	}
	d := j.Train.Dim()
	pick := rand.New(rand.NewPCG(seed, 21)).Perm(j.Train.N)[:n]
	x, y := make([]float32, 0, n*d), make([]int, n)
	for i, k := range pick {
		x = append(x, j.Train.X[k*d:(k+1)*d]...)
		y[i] = int(j.Train.Y[k])
	}
	return j.Score(Intensities(x), y)
}

// ImageEvalOptions choose what EvaluateImages measures. The zero value is the project's
// reference: 10,000 samples per guidance of 0, 1 and 2, 20-NFE midpoint.
type ImageEvalOptions struct {
	N        int       // samples per guidance (default 10,000)
	Guidance []float64 // the guidance weights w compared (default 0, 1, 2)
	Solver   string    // fixed-step method (default midpoint)
	NFE      int       // default 20
	Seed     uint64    // the noise (the same for every guidance) and the floor's draw
	// Progress, if set, is called with the images sampled so far out of N·len(Guidance).
	Progress func(done, total int)
}

// ImageResult is what EvaluateImages or JudgeImages measured. JSON field names are part
// of `flowmatch eval -json` on an image model.
type ImageResult struct {
	Model      string `json:"model,omitempty"`
	Classifier string `json:"classifier,omitempty"`
	Dataset    string `json:"dataset"`
	Solver     string `json:"solver,omitempty"`
	NFE        int    `json:"nfe,omitempty"` // per sample, whatever the guidance (a guided one costs 2 passes)
	N          int    `json:"n"`
	// TestAccuracy is the classifier's accuracy on the real test images.
	TestAccuracy float64 `json:"test_accuracy"`
	// FloorFD is the Fréchet distance between N real training images and the test set
	// (FloorAccuracy the classifier's accuracy on them): the lowest a model can expect
	// at this N.
	FloorFD       float64    `json:"fd_floor"`
	FloorAccuracy float64    `json:"floor_accuracy"`
	Rows          []ImageRow `json:"rows"`
}

// ImageRow is one set of samples' figures.
type ImageRow struct {
	Source   string   `json:"source"`             // "guidance 1", or the file the samples came from
	Guidance *float64 `json:"guidance,omitempty"` // for the model's own samples
	Accuracy float64  `json:"accuracy"`           // against the classes the samples were drawn for
	FD       float64  `json:"fd"`                 // Fréchet distance to the test set in the classifier's features
	FDRatio  float64  `json:"fd_ratio"`           // FD / the floor
}

func (o *ImageEvalOptions) fill() {
	if o.N == 0 {
		o.N = 10000
	}
	if o.Guidance == nil {
		o.Guidance = []float64{0, 1, 2}
	}
	if o.NFE == 0 {
		o.NFE = 20
	}
	if o.Solver == "" {
		o.Solver = sampler.Midpoint
	}
}

// ErrNotImageModel is returned (wrapped) by EvaluateImages for a model whose data are
// not images, and ErrImageModel by Evaluate for one whose data are.
var (
	ErrNotImageModel = errors.New("not an image model")
	ErrImageModel    = errors.New("an image model: W2, MMD and NLL measure models of points")
)

// EvaluateImages samples o.N images from an image model, net with its file's data
// (weights.DataInfo.IsImage), for each guidance weight (sample i of class i mod the
// model's classes) and scores them with j beside the floor at the same N.
func EvaluateImages(net *unet.Net, data weights.DataInfo, j *Judge, o ImageEvalOptions) (*ImageResult, error) {
	o.fill()
	if err := j.check(net, data); err != nil {
		return nil, err
	}
	if o.N < 2 || o.N > j.Train.N {
		return nil, fmt.Errorf("eval: n = %d, want 2 to %d (the floor draws n real training images)", o.N, j.Train.N)
	}
	for _, w := range o.Guidance {
		if !(w >= 0) {
			return nil, fmt.Errorf("eval: guidance %v, want w ≥ 0", w)
		}
	}
	res, err := j.base(o.N, o.Seed)
	if err != nil {
		return nil, err
	}
	res.Dataset, res.Solver, res.NFE = data.Name, o.Solver, o.NFE
	total := o.N * len(o.Guidance)
	for k, w := range o.Guidance {
		so := ImageOptions{N: o.N, Guidance: w, Solver: o.Solver, NFE: o.NFE, Seed: o.Seed}
		if o.Progress != nil {
			so.Progress = func(done, _ int) { o.Progress(k*o.N+done, total) }
		}
		x, err := SampleImages(net, so)
		if err != nil {
			return nil, err
		}
		data.ToPixels(x)
		labels := make([]int, o.N)
		for i := range labels {
			labels[i] = i % net.Config().Classes
		}
		row, err := j.row(fmt.Sprintf("guidance %g", w), x, labels, res.FloorFD)
		if err != nil {
			return nil, err
		}
		row.Guidance = &o.Guidance[k]
		res.Rows = append(res.Rows, row)
	}
	return res, nil
}

// check says whether j can judge net's images.
func (j *Judge) check(net *unet.Net, data weights.DataInfo) error {
	if !data.IsImage() {
		return fmt.Errorf("eval: %s data: %w (its file gives no pixel range)", data.Name, ErrNotImageModel)
	}
	cfg := net.Config()
	if cfg.Dim() != j.Net.Dim() || cfg.Classes > j.Net.Spec().Classes {
		return fmt.Errorf("eval: the model makes %v images of %d classes; the classifier judges %d pixels and %d classes",
			cfg.Shape, cfg.Classes, j.Net.Dim(), j.Net.Spec().Classes)
	}
	return nil
}

// JudgeImages scores external samples (pixels in [0, 1], one label each) beside the
// floor at their n, drawn from seed.
func JudgeImages(j *Judge, source string, pixels []float32, labels []int, seed uint64) (*ImageResult, error) {
	n := len(labels)
	if n < 2 || n > j.Train.N {
		return nil, fmt.Errorf("eval: %d images, want 2 to %d (the floor draws n real training images)", n, j.Train.N)
	}
	res, err := j.base(n, seed)
	if err != nil {
		return nil, err
	}
	row, err := j.row(source, pixels, labels, res.FloorFD)
	if err != nil {
		return nil, err
	}
	res.Rows = append(res.Rows, row)
	return res, nil
}

// base is a result with the judge's reference figures and the floor at n.
func (j *Judge) base(n int, seed uint64) (*ImageResult, error) {
	acc, fd, err := j.Floor(n, seed)
	if err != nil {
		return nil, err
	}
	if !(fd > 0) { // two sets of real images whose features vary are never this close
		return nil, fmt.Errorf("eval: the floor's Fréchet distance at n = %d is %g: the classifier's features barely vary", n, fd)
	}
	return &ImageResult{Dataset: "fashion-mnist", N: n, TestAccuracy: j.TestAccuracy, FloorFD: fd, FloorAccuracy: acc}, nil
}

func (j *Judge) row(source string, pixels []float32, labels []int, floor float64) (ImageRow, error) {
	acc, fd, err := j.Score(pixels, labels)
	if err != nil {
		return ImageRow{}, fmt.Errorf("%s: %w", source, err)
	}
	return ImageRow{Source: source, Accuracy: acc, FD: fd, FDRatio: fd / floor}, nil
}
