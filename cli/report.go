package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/report"
)

// reportQualityN, when set, replaces report's 2,000-point quality measurements, so
// that tests run in a second.
var reportQualityN int

func reportCommand() Command {
	return Command{
		Name:    "report",
		Summary: "evaluate a folder of models: quality table, W2-vs-NFE, trajectory and density plots; image models' classifier figures and grids",
		Run: func(env Env) error {
			fs := NewFlagSet(env, "report", "[-models DIR] [-o DIR] [-reference PREFIX]")
			models := fs.String("models", "weights", "folder of *.safetensors models")
			out := fs.String("o", "results", "output folder for README.md, results.json and the PNG plots")
			seed := fs.Uint64("seed", 0, "random seed")
			n := fs.Int("sweep-n", 1000, fmt.Sprintf("points per run of the solver sweep (at most %d)", metrics.MaxN))
			imageN := fs.Int("image-n", 10000, fmt.Sprintf("image models: samples per guidance weight of the 20-NFE headline (at most %d)", report.MaxImageN))
			imageSweepN := fs.Int("image-sweep-n", 2000, fmt.Sprintf("image models: samples per guidance weight and NFE of the figures against NFE (at most %d)", report.MaxImageN))
			clf := fs.String("classifier", "", "image models: the classifier `FILE` that judges them (default: the file of arch classifier in -models)")
			fashion := fs.String("fashion-dir", dataset.FashionMNISTDir, "image models: the `DIR` of Fashion-MNIST's idx files")
			ref := fs.String("reference", "", "image models: judge pytorch_fmnist.py --out `PREFIX`'s samples (PREFIX.w0.npy, … .w2.labels.npy) beside them, when they exist")
			if err := Parse(fs, env.Args); err != nil {
				return err
			}
			if fs.NArg() > 0 {
				return Usagef("unexpected argument %q", fs.Arg(0))
			}
			switch {
			case *n < 10:
				return Usagef("-sweep-n must be at least 10 (got %d)", *n)
			case *n > metrics.MaxN:
				return Usagef("-sweep-n %d is above %d, the most points exact W2 matches (n²·8 bytes of matrix, time growing as n³)", *n, metrics.MaxN)
			}
			for _, f := range []struct {
				name string
				v    int
			}{{"image-n", *imageN}, {"image-sweep-n", *imageSweepN}} {
				if f.v < 10 || f.v > report.MaxImageN {
					return Usagef("-%s must be 10 to %d (the floor draws as many of the training images; got %d)", f.name, report.MaxImageN, f.v)
				}
			}
			if *clf != "" {
				if st, err := os.Stat(*clf); err != nil || st.IsDir() {
					return Usagef("-classifier %s is not a file", *clf)
				}
			}
			if st, err := os.Stat(*models); err != nil || !st.IsDir() {
				return Usagef("-models %s is not a folder", *models)
			}
			if st, err := os.Stat(*out); err == nil && !st.IsDir() {
				return Usagef("-o %s is a file, not a folder: the report writes README.md, results.json and its plots into a folder", *out)
			}
			res, err := report.Run(report.Options{Models: *models, Out: *out, Seed: *seed, SweepN: *n,
				QualityN: reportQualityN, Stderr: env.Stderr, Classifier: *clf, FashionDir: *fashion,
				ImageN: *imageN, ImageSweepN: *imageSweepN, Reference: *ref})
			switch {
			case errors.Is(err, report.ErrNoModels):
				return Usagef("-models %s has no *.safetensors models", *models)
			case errors.Is(err, report.ErrOutNotFolder):
				return &UsageError{err}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "report: %d models evaluated", len(res.Models)+len(res.Images))
			if k := res.SkippedModels(); k > 0 {
				fmt.Fprintf(env.Stdout, ", %d skipped (see the warnings)", k)
			}
			fmt.Fprintf(env.Stdout, "; see %s/README.md\n", *out)
			return nil
		},
	}
}
