package cli

import (
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/flowmatch/flowmatch/eval"
	"github.com/flowmatch/flowmatch/imagegrid"
	"github.com/flowmatch/flowmatch/npy"
	"github.com/flowmatch/flowmatch/progress"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/unet"
	"github.com/flowmatch/flowmatch/weights"
)

// imageFlags are sample's flags for an image model (one whose data are images, a
// class-conditional U-Net): the class, the guidance, the labels file and the grid's zoom.
type imageFlags struct {
	class    *string
	guidance *float64
	labels   *string
	scale    *int
}

// Limits on an image grid.
const (
	defaultGridScale = 2
	maxGridScale     = 16
	maxGridPixels    = 1 << 26 // 64 Mpx: 64 MiB as grey
)

func addImageFlags(fs *flag.FlagSet) imageFlags {
	return imageFlags{
		class:    fs.String("class", "all", "image models: the `class`: all (image i has class i mod the class count), a class number or a class name"),
		guidance: fs.Float64("guidance", 1, "image models: classifier-free guidance `w` ≥ 0: v = (1+w)·v(x,t,c) − w·v(x,t,∅); 0 is the conditional field alone"),
		labels:   fs.String("labels", "", "image models: also write each image's class to `file`.npy (int64, n)"),
		scale:    fs.Int("scale", defaultGridScale, fmt.Sprintf("image models: screen pixels per image pixel in a PNG grid (1 to %d)", maxGridScale)),
	}
}

// imageFlagNames are the flags that only an image model takes.
var imageFlagNames = []string{"class", "guidance", "labels", "scale"}

// checkEarly checks the image flags that need no model, before it is read.
func (im imageFlags) checkEarly() error {
	if w := *im.guidance; !(w >= 0) || math.IsInf(w, 0) {
		return Usagef("-guidance must be finite and at least 0 (got %v)", w)
	}
	if s := *im.scale; s < 1 || s > maxGridScale {
		return Usagef("-scale must be 1 to %d (got %d)", maxGridScale, s)
	}
	return nil
}

// refuseImageFlags is the check for a model whose data are points: it takes none of
// the image flags.
func refuseImageFlags(set map[string]bool, f *weights.File, model string) error {
	for _, name := range imageFlagNames {
		if set[name] {
			return Usagef("-%s applies to image models; %s generates %d-D points of %s", name, model, f.Meta.Data.Dim, dataName(f))
		}
	}
	return nil
}

// refuseImageModel is the check of a command that works on points (encode, loglik):
// an image model is the wrong kind of model for it.
func refuseImageModel(f *weights.File, model, command string) error {
	if f.Meta.Data.IsImage() || f.Meta.Arch == weights.ArchUNet {
		return Usagef("%s is an image model (%s, %s): %s works on models of points; flowmatch sample -model %s -o grid.png draws its images",
			model, dataName(f), shapeString(f.Meta.Data.Shape), command, model)
	}
	return nil
}

// shapeString writes a shape as 1×28×28.
func shapeString(shape []int) string {
	s := make([]string, len(shape))
	for i, v := range shape {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, "×")
}

// imageNet builds an image model's U-Net, refusing a file that sampling images cannot
// integrate: images are drawn on the OT path from t = 0 to 1, as every image model is.
func imageNet(f *weights.File, model string) (*unet.Net, error) {
	p := f.Meta.Path
	if p.Name != sampler.PathOT || p.TMin != 0 || p.TMax != 1 {
		return nil, Usagef("%s: an image model's path must be ot on t ∈ [0, 1] (this one is %s on [%g, %g])", model, p.Name, p.TMin, p.TMax)
	}
	if !f.Meta.Data.IsImage() {
		return nil, Usagef("%s: a U-Net whose file gives no pixel range (data.pixels, format version 4): sample cannot map its values to intensities", model)
	}
	if len(f.Meta.Data.Shape) != 3 {
		return nil, Usagef("%s: image data of shape %v, want [channels, height, width]", model, f.Meta.Data.Shape)
	}
	field, _, err := f.Field()
	if err != nil {
		return nil, &UsageError{err}
	}
	net, ok := field.(*unet.Net)
	if !ok {
		return nil, Usagef("%s: its images come from a %q network, not a U-Net: sample draws images from U-Nets only", model, f.Meta.Arch)
	}
	return net, nil
}

// classNames returns the model's class names, or the labels as names when the file
// names no classes (or not as many as the network has).
func classNames(f *weights.File, cfg unet.Config) []string {
	if len(f.Meta.Data.Classes) == cfg.Classes {
		return f.Meta.Data.Classes
	}
	names := make([]string, cfg.Classes)
	for i := range names {
		names[i] = strconv.Itoa(i)
	}
	return names
}

// parseClass resolves -class against the class names: "all" gives nil (image i has
// class i mod the count), a number or a name (any case; spaces, hyphens and
// underscores ignored; either half of "T-shirt/top") one label.
func parseClass(s string, names []string) ([]int, error) {
	if strings.EqualFold(s, "all") {
		return nil, nil
	}
	if k, err := strconv.Atoi(s); err == nil {
		if k < 0 || k >= len(names) {
			return nil, Usagef("-class %d is not a class: want all, 0 to %d, or a name (%s)", k, len(names)-1, listClasses(names))
		}
		return []int{k}, nil
	}
	key := classKey(s)
	for k, name := range names {
		if classKey(name) == key && key != "" {
			return []int{k}, nil
		}
		if parts := strings.Split(name, "/"); len(parts) > 1 {
			for _, p := range parts {
				if classKey(p) == key && key != "" {
					return []int{k}, nil
				}
			}
		}
	}
	return nil, Usagef("-class %q is not a class of this model: want all, 0 to %d, or a name (%s)", s, len(names)-1, listClasses(names))
}

func classKey(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '_' {
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
}

// listClasses writes "0 T-shirt/top, 1 Trouser, …", every class, for messages.
func listClasses(names []string) string {
	s := make([]string, len(names))
	for i, n := range names {
		s[i] = strconv.Itoa(i) + " " + n
	}
	return strings.Join(s, ", ")
}

// imageBatch is how many images one solve integrates: the progress bar moves once a
// batch, so a batch is a small share of the run, but at least minImageBatch images keep
// the network's matrix products large enough to run at full speed.
func imageBatch(n int) int {
	const minImageBatch, updates = 8, 40
	return min(256, max(minImageBatch, (n+updates-1)/updates))
}

// imageRun is one image sampling run that sample has checked and is ready to do.
type imageRun struct {
	net      *unet.Net
	labels   []int // nil: image i has class i mod the class count
	guidance float64
	solver   string
	nfe      int
	seed     uint64
	n        int
}

// sample draws the images, in network space, with a progress bar in images.
func (r imageRun) sample(env Env) ([]float32, error) {
	bar := progress.New(env.Stderr, int64(r.n), progress.Options{Desc: "sampling", Unit: "images", Force: forceProgress})
	defer bar.Finish()
	return eval.SampleImages(r.net, eval.ImageOptions{
		N: r.n, Labels: r.labels, Guidance: r.guidance, Solver: r.solver, NFE: r.nfe, Seed: r.seed,
		Batch: imageBatch(r.n), Progress: func(done, _ int) { bar.Set(int64(done)) },
	})
}

// classOf is image i's class.
func (r imageRun) classOf(i int) int {
	if r.labels == nil {
		return i % r.net.Config().Classes
	}
	return r.labels[i%len(r.labels)]
}

// runSampleImages is sample for an image model: a PNG grid or an .npy array of the
// images' intensities in [0, 1], and their classes in -labels.
func runSampleImages(env Env, sf *sampleFlags, f *weights.File, opt sampler.Options) error {
	model, out, labelsOut := *sf.model, *sf.out, *sf.img.labels
	if err := sf.refuseForImages(model); err != nil {
		return err
	}
	net, err := imageNet(f, model)
	if err != nil {
		return err
	}
	cfg := net.Config()
	names := classNames(f, cfg)
	labels, err := parseClass(*sf.img.class, names)
	if err != nil {
		return err
	}
	if *sf.n > eval.MaxImages {
		return Usagef("-n %d is too many: at most %d images", *sf.n, eval.MaxImages)
	}
	run := imageRun{net: net, labels: labels, guidance: *sf.img.guidance, solver: opt.Method,
		nfe: opt.Steps * evalsPerStep(opt.Method), seed: *sf.seed, n: *sf.n}
	var grid imagegrid.Layout
	if isPNG(out) {
		if cfg.Shape[0] != 1 {
			return Usagef("-o %s: a PNG grid shows one-channel images; these have %d channels (write .npy)", out, cfg.Shape[0])
		}
		rowNames := names // a row per class for -class all
		if run.labels != nil {
			rowNames = nil
		}
		grid = imagegrid.New(run.n, rowNames, cfg.Shape[1], cfg.Shape[2], *sf.img.scale)
		if w, h := grid.Size(); w*h > maxGridPixels {
			return Usagef("-o %s: %d images at -scale %d make a %d×%d grid, more than %d M pixels: lower -n or -scale, or write .npy",
				out, run.n, grid.Scale, w, h, maxGridPixels>>20)
		}
	}
	start := time.Now()
	x, err := run.sample(env)
	if err != nil {
		return fmt.Errorf("sampling %s: %w", model, err)
	}
	elapsed := time.Since(start)
	f.Meta.Data.ToPixels(x)
	if isPNG(out) {
		err = writeOutput(env, "-o", out, func(w io.Writer) error { return grid.Encode(w, x) })
	} else {
		err = writeOutput(env, "-o", out, func(w io.Writer) error { return npy.WriteFloat32(w, x, imageShape(run.n, cfg.Shape)...) })
	}
	if err != nil {
		return err
	}
	if labelsOut != "" {
		ys := make([]int64, run.n)
		for i := range ys {
			ys[i] = int64(run.classOf(i))
		}
		if err := writeOutput(env, "-labels", labelsOut, func(w io.Writer) error { return npy.WriteInt64(w, ys) }); err != nil {
			return err
		}
	}
	fmt.Fprintf(env.Stderr, "flowmatch sample: %d images of %s (%s), %s, guidance %g, %s, NFE %d, seed %d, %s\n",
		run.n, dataName(f), shapeString(cfg.Shape), describeClass(labels, names), run.guidance, describeSolve(opt, sampler.Stats{Steps: opt.Steps}),
		run.nfe, run.seed, elapsed.Round(time.Millisecond))
	return nil
}

func evalsPerStep(method string) int {
	per, _ := sampler.EvalsPerStep(method) // sf.options checked the method
	return per
}

func describeClass(labels []int, names []string) string {
	if labels == nil {
		return fmt.Sprintf("classes 0 to %d in turn", len(names)-1)
	}
	return fmt.Sprintf("class %d (%s)", labels[0], names[labels[0]])
}

// imageShape is the .npy shape of n images: n×height×width for one channel (as
// Fashion-MNIST's arrays are), n×channels×height×width otherwise.
func imageShape(n int, shape []int) []int {
	if shape[0] == 1 {
		return []int{n, shape[1], shape[2]}
	}
	return append([]int{n}, shape...)
}
