package report

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/flowmatch/flowmatch/eval"
	"github.com/flowmatch/flowmatch/imagegrid"
	"github.com/flowmatch/flowmatch/outfile"
	"github.com/flowmatch/flowmatch/progress"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/unet"
	"github.com/flowmatch/flowmatch/weights"
)

// imageInput is the image models of the models folder and their judge.
type imageInput struct {
	classifier string // the classifier's file: Options.Classifier, or the folder's
	models     []string
	files      map[string]*weights.File // by path
}

// runImages measures every image model into res.Images (and the reference into
// res.Reference); a model that cannot be measured is skipped with its reason.
func runImages(opt Options, in imageInput, res *Results, skip func(file, part string, err error)) error {
	if len(in.models) == 0 {
		return nil
	}
	if in.classifier == "" {
		for _, file := range in.models {
			skip(filepath.Base(file), PartImages, fmt.Errorf("no classifier to judge it (a file of arch %q in %s, or -classifier)", weights.ArchClassifier, opt.Models))
		}
		return nil
	}
	j, err := loadJudge(in.classifier, opt.FashionDir)
	if err != nil {
		for _, file := range in.models {
			skip(filepath.Base(file), PartImages, err)
		}
		return nil
	}
	for _, file := range in.models {
		m, err := measureImages(file, in.files[file], j, opt)
		if err != nil {
			skip(filepath.Base(file), PartImages, err)
			continue
		}
		m.Classifier = filepath.Base(in.classifier)
		res.Images = append(res.Images, m)
	}
	// The reference is read after the models, which take the most time: a run can
	// start while pytorch_fmnist.py is still writing it.
	if opt.Reference != "" {
		ref, err := judgeReference(opt.Reference, j, opt.Seed)
		if err != nil {
			skip(filepath.Base(opt.Reference), PartReference, err)
		} else {
			ref.Classifier = filepath.Base(in.classifier)
			res.Reference = ref
		}
	}
	for _, m := range res.Images {
		m.VsReference = vsReference(m.Headline, res.Reference)
	}
	return nil
}

// measureImages samples an image model at every guidance and NFE, judges the samples,
// and draws its grids and plots into opt.Out.
func measureImages(file string, f *weights.File, j *eval.Judge, opt Options) (*ImageModel, error) {
	field, _, err := f.Field()
	if err != nil {
		return nil, err
	}
	net, ok := field.(*unet.Net)
	if !ok || !f.Meta.Data.IsImage() {
		return nil, fmt.Errorf("%w: the network is a %T of %s data", eval.ErrNotImageModel, field, f.Meta.Data.Name)
	}
	cfg := net.Config()
	if cfg.Dim() != j.Net.Dim() || cfg.Classes > j.Net.Spec().Classes || cfg.Shape[0] != 1 {
		return nil, fmt.Errorf("the model makes %v images of %d classes; the classifier judges one-channel images of %d pixels and %d classes",
			cfg.Shape, cfg.Classes, j.Net.Dim(), j.Net.Spec().Classes)
	}
	if n := max(opt.ImageN, opt.ImageSweepN); n > j.Train.N {
		return nil, fmt.Errorf("n = %d, more than the %d training images the floor draws from", n, j.Train.N)
	}
	s := &imageSampler{net: net, data: f.Meta.Data, seed: opt.Seed, have: map[sampleKey][]float32{}, dryN: map[sampleKey]int{}}
	// A grid shows gridColumns images a class, or as many as a sweep point has, so
	// that its images are the sweep's.
	cols := min(gridColumns, max(1, opt.ImageSweepN/cfg.Classes))
	headline, sweep, grids := imageRequests(opt.ImageN, opt.ImageSweepN, cfg.Classes*cols)
	for _, reqs := range [][]request{headline, sweep, grids} {
		for _, r := range reqs {
			s.plan(r)
		}
	}
	s.bar = progress.New(opt.Stderr, s.total, progress.Options{Desc: "images", Unit: "passes"})
	defer s.bar.Finish()

	stem := strings.TrimSuffix(filepath.Base(file), ".safetensors")
	m := &ImageModel{File: filepath.Base(file), GridNFE: ImageNFE}
	if m.Headline, err = scoreHeadline(s, j, headline, opt.Seed); err != nil {
		return nil, err
	}
	if m.Sweep, err = scoreSweep(s, j, sweep, opt.Seed); err != nil {
		return nil, err
	}
	names := classNames(f, cfg.Classes)
	for _, r := range grids {
		x, err := s.get(r)
		if err != nil {
			return nil, err
		}
		name := fmt.Sprintf("%s-grid-nfe%d.png", stem, r.nfe)
		g := imagegrid.New(r.n, names, cfg.Shape[1], cfg.Shape[2], gridScale)
		if err := writePNG(filepath.Join(opt.Out, name), g, x); err != nil {
			return nil, err
		}
		m.Grids = append(m.Grids, name)
	}
	m.Plots = []string{stem + "-accuracy-nfe.png", stem + "-fd-nfe.png"}
	if err := PlotImageSweep(filepath.Join(opt.Out, m.Plots[0]), filepath.Join(opt.Out, m.Plots[1]), m.File, m.Sweep, j.TestAccuracy); err != nil {
		return nil, err
	}
	return m, nil
}

// imageRequests are the samples the section uses, in the order it uses them: the
// headline first, so that the sweep's and the grids' 20-NFE points reuse its images.
func imageRequests(headN, sweepN, gridN int) (headline, sweep, grids []request) {
	for _, w := range ImageGuidance {
		headline = append(headline, request{sampleKey{w, HeadlineNFE}, headN})
	}
	for _, w := range ImageGuidance {
		for _, nfe := range ImageNFE {
			sweep = append(sweep, request{sampleKey{w, nfe}, sweepN})
		}
	}
	for _, nfe := range ImageNFE {
		grids = append(grids, request{sampleKey{GridGuidance, nfe}, gridN})
	}
	return headline, sweep, grids
}

// scoreHeadline judges the headline's samples beside the floor at their n.
func scoreHeadline(s *imageSampler, j *eval.Judge, reqs []request, seed uint64) (*eval.ImageResult, error) {
	n := reqs[0].n
	facc, ffd, err := j.Floor(n, seed)
	if err != nil {
		return nil, err
	}
	res := &eval.ImageResult{Dataset: s.data.Name, Solver: sampler.Midpoint, NFE: HeadlineNFE, N: n,
		TestAccuracy: j.TestAccuracy, FloorFD: ffd, FloorAccuracy: facc}
	for _, r := range reqs {
		x, err := s.get(r)
		if err != nil {
			return nil, err
		}
		acc, fd, err := j.Score(x, labels(n, s.net.Config().Classes))
		if err != nil {
			return nil, err
		}
		w := r.w
		res.Rows = append(res.Rows, eval.ImageRow{Source: fmt.Sprintf("guidance %g", w), Guidance: &w, Accuracy: acc, FD: fd, FDRatio: fd / ffd})
	}
	return res, nil
}

// scoreSweep judges each guidance weight at each NFE beside the floor at the sweep's n.
func scoreSweep(s *imageSampler, j *eval.Judge, reqs []request, seed uint64) (ImageSweep, error) {
	n := reqs[0].n
	sw := ImageSweep{N: n}
	var err error
	if sw.FloorAccuracy, sw.FloorFD, err = j.Floor(n, seed); err != nil {
		return sw, err
	}
	for _, r := range reqs {
		x, err := s.get(r)
		if err != nil {
			return sw, err
		}
		acc, fd, err := j.Score(x, labels(n, s.net.Config().Classes))
		if err != nil {
			return sw, err
		}
		sw.Points = append(sw.Points, ImagePoint{Guidance: r.w, NFE: r.nfe, Accuracy: acc, FD: fd, FDRatio: fd / sw.FloorFD})
	}
	return sw, nil
}

// classNames are the grid's row names: the file's class names, or the class numbers.
func classNames(f *weights.File, classes int) []string {
	if len(f.Meta.Data.Classes) == classes {
		return f.Meta.Data.Classes
	}
	names := make([]string, classes)
	for i := range names {
		names[i] = fmt.Sprint(i)
	}
	return names
}

// writePNG writes a grid of px through outfile.
func writePNG(file string, g imagegrid.Layout, px []float32) error {
	out, err := outfile.Create(file)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer out.Abort()
	if err := g.Encode(out, px); err != nil {
		return fmt.Errorf("report: writing %s: %w", file, err)
	}
	if err := out.Commit(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// ReferenceFiles are the files of pytorch_fmnist.py --out PREFIX for guidance w: the
// samples and their labels.
func ReferenceFiles(prefix string, w float64) (images, labels string) {
	base := fmt.Sprintf("%s.w%g", prefix, w)
	return base + ".npy", base + ".labels.npy"
}

// judgeReference scores the reference's samples for every guidance weight beside the
// floor at their n (the same n in every file).
func judgeReference(prefix string, j *eval.Judge, seed uint64) (*eval.ImageResult, error) {
	var res *eval.ImageResult
	for _, w := range ImageGuidance {
		xf, yf := ReferenceFiles(prefix, w)
		x, y, err := readReference(xf, yf, j)
		if err != nil {
			return nil, err
		}
		if res == nil {
			if res, err = eval.JudgeImages(j, filepath.Base(xf), x, y, seed); err != nil {
				return nil, err
			}
			res.Dataset = "fashion-mnist"
		} else {
			if len(y) != res.N {
				return nil, fmt.Errorf("%s holds %d samples, %s %d: want the same n for every guidance", xf, len(y), filepath.Base(prefix)+".w0.npy", res.N)
			}
			acc, fd, err := j.Score(x, y)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", xf, err)
			}
			res.Rows = append(res.Rows, eval.ImageRow{Source: filepath.Base(xf), Accuracy: acc, FD: fd, FDRatio: fd / res.FloorFD})
		}
		w := w
		res.Rows[len(res.Rows)-1].Guidance = &w
	}
	res.NFE, res.Solver = HeadlineNFE, sampler.Midpoint
	return res, nil
}

// readReference reads one guidance weight's samples and labels.
func readReference(images, labels string, j *eval.Judge) ([]float32, []int, error) {
	fx, err := os.Open(images)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("no reference samples at %s (pytorch_fmnist.py --out writes them; make results runs it)", images)
	}
	if err != nil {
		return nil, nil, err
	}
	defer fx.Close()
	side := j.Net.Spec().Side
	x, err := eval.ReadImagesNPY(fx, images, side)
	if err != nil {
		return nil, nil, err
	}
	fy, err := os.Open(labels)
	if err != nil {
		return nil, nil, err
	}
	defer fy.Close()
	y, err := eval.ReadLabelsNPY(fy, labels, len(x)/(side*side), j.Net.Spec().Classes)
	if err != nil {
		return nil, nil, err
	}
	return x, y, nil
}

// vsReference is, per headline row, the model's FD over the reference's at the same
// guidance (NaN where the reference has no such row); nil without a reference.
func vsReference(h *eval.ImageResult, ref *eval.ImageResult) []float64 {
	if ref == nil {
		return nil
	}
	out := make([]float64, len(h.Rows))
	for i, r := range h.Rows {
		out[i] = -1
		for _, q := range ref.Rows {
			if q.Guidance != nil && *q.Guidance == *r.Guidance {
				out[i] = r.FD / q.FD
			}
		}
	}
	return out
}
