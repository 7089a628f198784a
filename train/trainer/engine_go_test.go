package trainer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/cli"
	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// TestEngineGo trains the same small run with -engine go and with libtorch: both follow
// one recipe on the same batches from the same initial weights, so their losses agree
// closely (not bit for bit: their matrix products round differently); the go engine's
// file reads back with its provenance.
func TestEngineGo(t *testing.T) {
	losses := map[string]float64{}
	for _, engine := range []string{EngineGo, EngineTorch} {
		cfg := small(t, 500)
		cfg.Engine, cfg.Coupling, cfg.DType = engine, CouplingOT, weights.F16
		cfg.Time = sampler.TimeEmbedding{Kind: sampler.TimeFourier, Freqs: 2}
		res, err := Run(context.Background(), cfg, Options{NoVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		losses[engine] = res.Loss
		t.Logf("-engine %s: loss %.4f → %.4f, %.0f steps/s on %s", engine, res.FirstLoss, res.Loss, res.StepsPerSec, res.Device)
		if !(res.Loss < 0.5*res.FirstLoss) {
			t.Errorf("-engine %s: loss went from %.4f to %.4f", engine, res.FirstLoss, res.Loss)
		}
		f, err := weights.ReadFile(cfg.Out)
		if err != nil {
			t.Fatal(err)
		}
		p := f.Meta.Provenance
		if engine == EngineGo && (p.Notes["engine"] != EngineGo || p.LibTorch != "" || p.Steps != 500 ||
			p.Coupling != CouplingOT || f.Tensors[0].DType != weights.F16 || !strings.Contains(p.Device, "pure Go")) {
			t.Errorf("-engine go: file says dtype %s, provenance %+v", f.Tensors[0].DType, p)
		}
		if _, err := os.Stat(cfg.CkptPath()); err == nil {
			t.Errorf("-engine %s: a checkpoint was left behind", engine)
		}
	}
	if g, l := losses[EngineGo], losses[EngineTorch]; math.Abs(g-l) > 0.05*l {
		t.Errorf("after 500 steps the go engine's loss is %.4f, libtorch's %.4f", g, l)
	}
}

// TestEngineGoRefusals checks the one-line usage errors of what -engine go cannot do.
func TestEngineGoRefusals(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ args, want string }{
		{"-engine go -resume", "-resume: -engine go keeps no checkpoint"},
		{"-engine go -device cuda", "CPU only"},
		{"-engine jax", `unknown -engine "jax"`},
	} {
		args := append(strings.Fields(tc.args), "-data", "moons", "-o", dir+"/m.safetensors")
		_, err := ParseFlags(cli.Env{Args: args, Stdout: os.Stdout, Stderr: os.Stderr})
		var ue *cli.UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", tc.args, err)
		}
	}
}

// TestEngineGoOwnData trains -engine go on a CSV of points (moons in other units): the
// file records the data's standardisation and source, and the loss follows
// libtorch's on the same run.
func TestEngineGoOwnData(t *testing.T) {
	dir := t.TempDir()
	pts, err := dataset.Sample("moons", 2000, rand.New(rand.NewPCG(5, 5)))
	if err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("x,y\n")
	mean := 0.0 // of the first column, whose held-out tenth moves it a little
	for i := 0; i < len(pts); i += 2 {
		fmt.Fprintf(&csv, "%g,%g\n", 10*pts[i]+3, 0.5*pts[i+1]-7)
		mean += float64(10*pts[i]+3) / 2000
	}
	file := filepath.Join(dir, "moons.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	losses := map[string]float64{}
	for _, engine := range []string{EngineGo, EngineTorch} {
		cfg := small(t, 300)
		cfg.Data, cfg.Engine = file, engine
		res, err := Run(context.Background(), cfg, Options{NoVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		losses[engine] = res.Loss
		f, err := weights.ReadFile(cfg.Out)
		if err != nil {
			t.Fatal(err)
		}
		d := f.Meta.Data
		if d.Name != "moons.csv" || d.Normalization == nil || math.Abs(d.Normalization.Mean[0]-mean) > 1 ||
			d.Source.Rows != 2000 || d.Source.SHA256 == "" {
			t.Errorf("-engine %s: the file's data record is %+v (normalization %+v, want mean near %.3g)", engine, d, d.Normalization, mean)
		}
	}
	if g, l := losses[EngineGo], losses[EngineTorch]; math.Abs(g-l) > 0.05*l {
		t.Errorf("after 300 steps on a CSV the go engine's loss is %.4f, libtorch's %.4f", g, l)
	}
}
