package cli

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/flowmatch/flowmatch/progress"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

func loglikCommand() Command {
	return Command{
		Name:    "loglik",
		Summary: "log-likelihood of each data point under a model, through the continuity equation",
		Run:     runLoglik,
	}
}

// Divergence choices of loglik's -div.
const (
	divAuto       = "auto"
	divExact      = "exact"
	divHutchinson = "hutchinson"
)

// exactDivMaxDim is the largest dimension for which -div auto takes the exact
// divergence, which costs d+1 passes of the network per evaluation; above it,
// Hutchinson's estimate costs about two.
const exactDivMaxDim = 16

func runLoglik(env Env) error {
	fs, pf := addPointsFlags(env, "loglik",
		"-model FILE -in POINTS.csv [-solver S] [-nfe K | -rtol R -atol A] [-div auto|exact|hutchinson] [-o LL.csv]",
		"log-likelihoods (header loglik, one row a point, nats in the data's units)")
	pf.solver = addSolverFlagsWith(fs, sampler.RK4, 80)
	div := fs.String("div", divAuto, fmt.Sprintf("divergence: exact (d+1 network passes an evaluation), hutchinson (an unbiased estimate, about 2), or auto (exact up to dimension %d)", exactDivMaxDim))
	seed := fs.Uint64("seed", 0, "random seed of Hutchinson's probe vectors")
	if err := Parse(fs, env.Args); err != nil {
		return err
	}
	switch *div {
	case divAuto, divExact, divHutchinson:
	default:
		return Usagef("unknown -div %q (want auto, exact or hutchinson)", *div)
	}
	opt, err := pf.check(fs, "loglik")
	if err != nil {
		return err
	}
	f, x, err := pf.load(env)
	if err != nil {
		return err
	}
	field, path, err := f.Field()
	if err != nil {
		return &UsageError{err}
	}
	m := densityModel{Field: field, Path: path, Data: f.Meta.Data, TMin: f.Meta.Path.TMin, TMax: f.Meta.Path.TMax}
	how, err := m.divergence(*div)
	if err != nil {
		return err
	}
	d := f.Meta.Data.Dim
	n := len(x) / d

	bar := progress.New(env.Stderr, int64(n), progress.Options{Desc: "log-likelihood", Unit: "points", Force: forceProgress})
	if bar != nil {
		opt.OnStep = sampleProgress(bar.Set, n, m.TMax, m.TMin)
	}
	start := time.Now()
	ll, st, err := m.logLikelihood(x, opt, how == divHutchinson, *seed)
	bar.Finish()
	if err != nil {
		return fmt.Errorf("log-likelihood of %s: %w", *pf.in, err)
	}
	elapsed := time.Since(start)
	if err := writeOutput(env, "-o", *pf.out, func(w io.Writer) error { return writeLoglik(w, ll) }); err != nil {
		return err
	}
	mean := 0.0
	for _, v := range ll {
		mean += v
	}
	mean /= float64(len(ll))
	divWhat := "exact divergence"
	if how == divHutchinson {
		divWhat = fmt.Sprintf("Hutchinson divergence (seed %d)", *seed)
	}
	fmt.Fprintf(env.Stderr, "flowmatch loglik: %d points of %s (dim %d, path %s, t %g→%g), %s, %s, NFE %d, mean %.6g nats, %s\n",
		n, dataName(f), d, f.Meta.Path.Name, m.TMax, m.TMin, divWhat, describeSolve(opt, st), st.NFE, mean,
		elapsed.Round(10*time.Microsecond))
	return nil
}

// densityModel is what a log-likelihood needs: a velocity field in the network's space,
// its path and trained time range, and the map to the data's units. The command builds
// it from a file; tests build it from any field, such as sampler.GaussianTarget.
type densityModel struct {
	Field      sampler.Field
	Path       sampler.Path
	Data       weights.DataInfo // its normalization maps the network's space to the data's
	TMin, TMax float64
}

// divergence resolves a -div choice against what the field offers: divExact or
// divHutchinson, or a usage error.
func (m densityModel) divergence(choice string) (string, error) {
	_, exact := m.Field.(sampler.DivField)
	_, jvp := m.Field.(sampler.JVPField)
	d := m.Field.Dim()
	switch choice {
	case divExact:
		if !exact {
			return "", Usagef("-div exact: this network has no exact divergence")
		}
		return divExact, nil
	case divHutchinson:
		if !jvp {
			return "", Usagef("-div hutchinson: this network has no Jacobian-vector products")
		}
		return divHutchinson, nil
	}
	switch {
	case exact && (d <= exactDivMaxDim || !jvp):
		return divExact, nil
	case jvp:
		return divHutchinson, nil
	}
	return "", Usagef("this network has neither an exact divergence nor Jacobian-vector products: no log-likelihood")
}

// logLikelihood returns log p(x), in nats and in the data's units, for each row of x
// (n×d in the data's units; left unchanged): x is mapped to the network's space, the
// continuity equation is integrated from TMax back to TMin with the solver options (T0,
// T1 and Grid are set here), and the log-determinant of the normalization, Σ log std,
// is subtracted.
func (m densityModel) logLikelihood(x []float32, opt sampler.Options, hutchinson bool, seed uint64) ([]float64, sampler.Stats, error) {
	xn := append([]float32(nil), x...)
	m.Data.FromData(xn)
	opt.T0, opt.T1, opt.Grid = m.TMax, m.TMin, nil
	ll, st, err := sampler.LogLikelihood(m.Field, m.Path, xn, sampler.LikelihoodOptions{Solver: opt, Hutchinson: hutchinson, Seed: seed})
	if err != nil {
		return nil, st, err
	}
	logdet := m.Data.LogDetToData()
	for i := range ll {
		ll[i] -= logdet
	}
	return ll, st, nil
}

// writeLoglik writes the header loglik and one value a row, each in the shortest form
// that reads back as the same float64.
func writeLoglik(w io.Writer, ll []float64) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString("loglik\n")
	var buf []byte
	for _, v := range ll {
		buf = strconv.AppendFloat(buf[:0], v, 'g', -1, 64)
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}
