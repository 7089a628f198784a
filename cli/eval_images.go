package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/flowmatch/flowmatch/classifier"
	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/eval"
	"github.com/flowmatch/flowmatch/progress"
	"github.com/flowmatch/flowmatch/weights"
)

// DefaultClassifier is where eval finds the Fashion-MNIST classifier that judges image
// models, relative to the working folder (the repository's root).
const DefaultClassifier = "weights/fashion-classifier.safetensors"

// evalImageFlags are eval's flags for image models and external samples.
type evalImageFlags struct {
	guidance, classifier, images, labels, fashion *string
}

func addEvalImageFlags(fs *flag.FlagSet) *evalImageFlags {
	return &evalImageFlags{
		guidance:   fs.String("guidance", "0,1,2", "image models: the classifier-free guidance weights `W,W,…` compared"),
		classifier: fs.String("classifier", DefaultClassifier, "image models: the classifier `FILE` that judges the samples"),
		images:     fs.String("images", "", "judge external samples: an .npy `FILE` of n×28×28 intensities in [0, 1] (pytorch_fmnist.py --out, sample -o x.npy)"),
		labels:     fs.String("labels", "", "with -images: the .npy `FILE` of their n intended classes"),
		fashion:    fs.String("fashion-dir", dataset.FashionMNISTDir, "image models: the `DIR` of Fashion-MNIST's idx files (the test set and the floor's training images)"),
	}
}

var imageOnly = []string{"guidance", "classifier", "images", "labels", "fashion-dir"}

// external says whether eval judges sample files rather than a model.
func (e *evalImageFlags) external() bool { return *e.images != "" || *e.labels != "" }

// refuse refuses the image flags for a model of points.
func (e *evalImageFlags) refuse(set map[string]bool, f *weights.File, model string) error {
	for _, name := range imageOnly {
		if set[name] {
			return Usagef("-%s applies to image models; %s generates %d-D points of %s", name, model, f.Meta.Data.Dim, f.Meta.Data.Name)
		}
	}
	return nil
}

// imageEvalArgs are the shared flags' values eval passes on for an image model.
type imageEvalArgs struct {
	n      int
	seed   uint64
	json   bool
	set    map[string]bool
	solver *solverFlags
	fs     *flag.FlagSet
}

// runModel is eval on an image model: samples per guidance weight, judged by the
// classifier beside the real-data floor.
func (e *evalImageFlags) runModel(env Env, f *weights.File, model string, a imageEvalArgs) error {
	if f.Meta.Arch == weights.ArchClassifier {
		return Usagef("%s is the classifier that judges image models, not a model to evaluate: pass it as -classifier", model)
	}
	for _, name := range []string{"data", "reps", "nll-steps", "rtol", "atol"} {
		if a.set[name] {
			return Usagef("-%s does not apply to an image model (%s)", name, model)
		}
	}
	net, err := imageNet(f, model)
	if err != nil {
		return err
	}
	gs, err := parseGuidances(*e.guidance)
	if err != nil {
		return err
	}
	n := a.n
	if !a.set["n"] {
		n = 10000
	}
	if n < 2 || n > 60000 {
		return Usagef("-n must be 2 to 60000 for an image model (the floor draws n of the 60,000 training images; got %d)", n)
	}
	if *a.solver.solver == "dopri5" {
		return Usagef("-solver dopri5: image models take a fixed-step solver (euler, midpoint, heun, rk4)")
	}
	so, err := a.solver.options(a.fs)
	if err != nil {
		return err
	}
	clf, err := e.loadClassifier()
	if err != nil {
		return err
	}
	j, err := e.judge(env, clf)
	if err != nil {
		return err
	}
	bar := progress.New(env.Stderr, int64(n*len(gs)), progress.Options{Desc: "eval: sampling", Unit: "images"})
	opt := eval.ImageEvalOptions{N: n, Guidance: gs, Solver: so.Method, NFE: so.Steps * evalsPerStep(so.Method), Seed: a.seed,
		Progress: func(done, _ int) { bar.Set(int64(done)) }}
	res, err := eval.EvaluateImages(net, f.Meta.Data, j, opt)
	bar.Finish()
	if err != nil {
		return err
	}
	res.Model, res.Classifier = model, *e.classifier
	return printImageEval(env.Stdout, res, a.json)
}

// runExternal is eval -images X.npy -labels Y.npy.
func (e *evalImageFlags) runExternal(env Env, model string, seed uint64, asJSON bool, set map[string]bool) error {
	switch {
	case model != "":
		return Usagef("-images judges samples from a file: leave out -model (or -images to evaluate the model)")
	case *e.images == "" || *e.labels == "":
		return Usagef("-images and -labels go together: the samples and their intended classes")
	}
	for _, name := range []string{"data", "reps", "nll-steps", "rtol", "atol", "guidance", "solver", "nfe", "n"} {
		if set[name] {
			return Usagef("-%s does not apply to judging sample files (-images)", name)
		}
	}
	net, err := e.loadClassifier()
	if err != nil {
		return err
	}
	x, y, err := readSampleFiles(*e.images, *e.labels, net.Spec().Side, net.Spec().Classes)
	if err != nil {
		return err
	}
	j, err := e.judge(env, net)
	if err != nil {
		return err
	}
	if len(y) < 2 || len(y) > j.Train.N {
		return Usagef("%s: %d images, want 2 to %d (the floor draws as many of the training images)", *e.images, len(y), j.Train.N)
	}
	res, err := eval.JudgeImages(j, *e.images, x, y, seed)
	if err != nil {
		return err
	}
	res.Classifier = *e.classifier
	return printImageEval(env.Stdout, res, asJSON)
}

// readSampleFiles reads external samples and their labels, as usage errors.
func readSampleFiles(images, labels string, side, classes int) ([]float32, []int, error) {
	if filepath.Clean(images) == filepath.Clean(labels) {
		return nil, nil, Usagef("-images and -labels are the same file (%s)", images)
	}
	fx, err := os.Open(images)
	if err != nil {
		return nil, nil, &UsageError{err}
	}
	defer fx.Close()
	x, err := eval.ReadImagesNPY(fx, images, side)
	if err != nil {
		return nil, nil, &UsageError{err}
	}
	fy, err := os.Open(labels)
	if err != nil {
		return nil, nil, &UsageError{err}
	}
	defer fy.Close()
	y, err := eval.ReadLabelsNPY(fy, labels, len(x)/(side*side), classes)
	if err != nil {
		return nil, nil, &UsageError{err}
	}
	return x, y, nil
}

// loadClassifier reads -classifier.
func (e *evalImageFlags) loadClassifier() (*classifier.Net, error) {
	net, err := classifier.Load(*e.classifier)
	if errors.Is(err, os.ErrNotExist) && *e.classifier == DefaultClassifier {
		return nil, Usagef("no classifier at %s (eval runs from the repository's root, or pass -classifier FILE)", DefaultClassifier)
	}
	if err != nil {
		return nil, &UsageError{fmt.Errorf("-classifier: %w", err)}
	}
	return net, nil
}

// judge reads Fashion-MNIST and computes the test set's features with net.
func (e *evalImageFlags) judge(env Env, net *classifier.Net) (*eval.Judge, error) {
	train, test, err := dataset.FashionMNIST(*e.fashion)
	if err != nil {
		return nil, fmt.Errorf("eval: Fashion-MNIST (the test set and the floor's real images): %w", err)
	}
	bar := progress.New(env.Stderr, 1, progress.Options{Desc: "eval: the test set's features", Unit: "stages"})
	j, err := eval.NewJudge(net, train, test)
	bar.Finish()
	if err != nil {
		return nil, &UsageError{err}
	}
	return j, nil
}

// parseGuidances reads -guidance: weights w ≥ 0, comma-separated.
func parseGuidances(s string) ([]float64, error) {
	var gs []float64
	for _, part := range strings.Split(s, ",") {
		w, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil || !(w >= 0) || math.IsInf(w, 0) {
			return nil, Usagef("-guidance %q: want finite weights w ≥ 0, comma-separated (e.g. 0,1,2)", s)
		}
		gs = append(gs, w)
	}
	return gs, nil
}

// printImageEval writes the image figures as a table, or as JSON.
func printImageEval(w io.Writer, res *eval.ImageResult, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	if res.Model != "" {
		fmt.Fprintf(w, "model       %s (%s)\n", res.Model, res.Dataset)
		fmt.Fprintf(w, "sampling    %s, NFE %d, n %d per row, sample i of class i mod 10, the same noise for every row\n", res.Solver, res.NFE, res.N)
	}
	fmt.Fprintf(w, "classifier  %s: accuracy %.4f on the real test images\n\n", res.Classifier, res.TestAccuracy)
	fmt.Fprintf(w, "%-22s %9s %10s %9s\n", "samples", "accuracy", "FD", "FD/floor")
	for _, r := range res.Rows {
		fmt.Fprintf(w, "%-22s %9.4f %10.3f %8.2f×\n", r.Source, r.Accuracy, r.FD, r.FDRatio)
	}
	fmt.Fprintf(w, "%-22s %9.4f %10.3f %8.2f×\n", fmt.Sprintf("floor: %d real", res.N), res.FloorAccuracy, res.FloorFD, 1.0)
	fmt.Fprintf(w, "\naccuracy: the classifier's, against each sample's intended class. FD: Fréchet distance\n"+
		"to the %s test set in the classifier's %s features (lower is better); the floor is\n"+
		"n real training images against the same test set.\n", res.Dataset, "penultimate")
	return nil
}
