package trainer

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/recipe"
	"github.com/flowmatch/flowmatch/weights"
)

// The training recipe, batches and schedules alike, is package recipe's (pure Go, so
// that a trainer without libtorch shares it): these give a Config's part of it.

// data describes the batches of the run: drawn in pure Go by recipe.Batcher, with
// (x_t, u_t) from sampler.Interpolate and the input rows from the sampler's own
// TimeEmbedding.Features, so that what the trainer regresses on is exactly what the
// sampler integrates. Own data are drawn from the training rows, in the network's space.
func (c *Config) data() recipe.Data {
	d := recipe.Data{Dataset: c.Data, Path: c.Path, Coupling: c.Coupling, OTGroup: c.OTGroup, Batch: c.Batch, Time: c.Time}
	if o := c.Own; o != nil {
		d.Dataset, d.Points, d.PointsDim = o.Info.Name, o.Train, o.Info.Dim
	}
	return d
}

// schedule is the run's learning rate by step.
func (c *Config) schedule() recipe.Schedule {
	return recipe.Schedule{LR: c.LR, Warmup: c.Warmup, Steps: c.Steps, MinLRFrac: c.MinLRFrac}
}

// adamw is the run's optimiser.
func (c *Config) adamw() recipe.AdamW {
	return recipe.AdamW{Beta1: c.Beta1, Beta2: c.Beta2, Eps: c.AdamEps, WeightDecay: c.WeightDecay}
}

// OwnData is a user's data set a run trains on (-data FILE): the training rows,
// standardised, and what the model file records about them.
type OwnData struct {
	// Info is the model file's data record: the file's base name, dimension, the
	// standardisation (network space → data space) and the source (rows, SHA-256, the
	// held-out rows' rule and seed).
	Info weights.DataInfo
	// Train holds the rows not held out, n×Info.Dim, in the network's space.
	Train []float32
	// Constant lists the columns (from 0) that hold one value throughout the training
	// rows; the model keeps them at that value.
	Constant []int
}

// IsDataFile reports whether a -data value names a file of points rather than a
// built-in dataset: it is no dataset's name and ends in .csv or .npy or holds a path
// separator.
func IsDataFile(name string) bool {
	if dataset.Dim(name) > 0 || name == "" {
		return false
	}
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".csv" || ext == ".npy" || strings.ContainsAny(name, `/\`)
}

// LoadOwnData reads a user's points from path (CSV or .npy, see dataset.ReadFile),
// holds out a tenth of the rows chosen by seed (dataset.Holdout), and standardises the
// rest per coordinate (dataset.Standardize). A column constant in the training rows
// gets std 0, so the model keeps it at that value. Errors are the data's, one line
// naming the file (and the line and column of a bad cell).
func LoadOwnData(path string, seed uint64) (*OwnData, error) {
	own, err := dataset.ReadFile(path, dataset.ReadOptions{})
	if err != nil {
		return nil, fmt.Errorf("-data: %w", err)
	}
	d := own.Dim
	train, _, err := dataset.Split(own.Points, d, seed)
	if err != nil {
		return nil, fmt.Errorf("-data %s: %w", path, err)
	}
	mean, std, err := dataset.Standardize(train, d)
	if err != nil {
		return nil, fmt.Errorf("-data %s: %w", path, err)
	}
	o := &OwnData{
		Info: weights.DataInfo{
			Name: own.File, Dim: d,
			Normalization: &weights.Normalization{Mean: mean, Std: std},
			Source: weights.Source{File: own.File, Rows: own.Rows, SHA256: own.SHA256,
				Holdout: weights.Holdout{Rule: dataset.HoldoutRule, Seed: seed, Rows: dataset.HoldoutCount(own.Rows)}},
		},
		Train:    train,
		Constant: dataset.ConstantColumns(train, d),
	}
	o.Info.FromData(o.Train)
	return o, nil
}

// constantWarning is the one line that says which columns are constant and kept so,
// or "" when none is.
func (o *OwnData) constantWarning() string {
	if o == nil || len(o.Constant) == 0 {
		return ""
	}
	var cols []string
	for _, j := range o.Constant {
		cols = append(cols, fmt.Sprintf("%d (= %g)", j+1, o.Info.Normalization.Mean[j]))
	}
	return fmt.Sprintf("warning: %s: %s %s %s constant in the training rows: the model keeps %s at that value",
		o.Info.Name, plural(len(cols), "column", "columns"), strings.Join(cols, ", "), plural(len(cols), "is", "are"), plural(len(cols), "it", "them"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// dataInfo is the model file's data record: the own data's, or the named dataset's.
func (c *Config) dataInfo() weights.DataInfo {
	if c.Images() {
		return imageInfo()
	}
	if o := c.Own; o != nil {
		info := o.Info
		nz := *o.Info.Normalization
		info.Normalization = &nz
		return info
	}
	return weights.DataInfo{Name: c.Data, Dim: c.Spec().Dim}
}

// loadOwn reads the -data file into c.Own when Data names one and it is not read yet.
func (c *Config) loadOwn() error {
	if c.Images() && c.images == nil {
		im, _, err := dataset.FashionMNIST(dataset.FashionMNISTDir)
		if err != nil {
			return fmt.Errorf("-data %s: %w (install Debian's dataset-fashion-mnist: make fashion-mnist)", DataFashion, err)
		}
		c.images = im
		return nil
	}
	if c.Own != nil || !IsDataFile(c.Data) {
		return nil
	}
	o, err := LoadOwnData(c.Data, c.Seed)
	if err != nil {
		return err
	}
	c.Own = o
	return nil
}
