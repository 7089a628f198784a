package trainer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/cli"
	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/unet"
	"github.com/flowmatch/flowmatch/weights"
)

// needFashion skips a test when Debian's Fashion-MNIST files are missing (make test
// installs them: mk/data.mk).
func needFashion(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dataset.FashionMNISTDir, "train-images-idx3-ubyte.gz")); err != nil {
		if os.Getenv("FLOWMATCH_REQUIRE_TORCH") != "" {
			t.Fatalf("Fashion-MNIST missing (%v): make fashion-mnist installs it", err)
		}
		t.Skipf("Fashion-MNIST missing: %v", err)
	}
}

// smallImages is an image run of a narrow U-Net on small batches, for tests.
func smallImages(t *testing.T, steps int) Config {
	t.Helper()
	needFashion(t)
	c := Default()
	c.Data, c.Channels, c.Batch, c.Steps = DataFashion, 8, 8, steps
	c.LR, c.MinLRFrac, c.Warmup, c.Device = 1e-3, 0.1, 5, "cpu"
	c.Out = filepath.Join(t.TempDir(), "img.safetensors")
	if err := c.loadOwn(); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestImageRunExport trains a few steps and checks the file: an "unet" model of the
// run's config with the data's shape, classes and pixel range (format version 4), the
// loss falling, and the pure-Go U-Net's forward pass within 1e-3 of libtorch's on the
// exported values (the parity bound; float32 summation order leaves ~1e-6).
func TestImageRunExport(t *testing.T) {
	cfg := smallImages(t, 40)
	res, err := Run(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loss %.4f → %.4f; pure Go vs libtorch max |Δv| %.3g at scale %.3g", res.FirstLoss, res.Loss, res.VerifyMaxErr, res.VerifyScale)
	if res.VerifyMaxErr > 1e-3*math.Max(1, res.VerifyScale) || res.VerifyScale == 0 {
		t.Errorf("parity: max |Δv| %.3g at scale %.3g, want ≤ 1e-3 relative", res.VerifyMaxErr, res.VerifyScale)
	}
	if !(res.LastLoss < res.FirstLoss) {
		t.Errorf("loss %.4f → %.4f: did not fall", res.FirstLoss, res.LastLoss)
	}
	f, err := weights.ReadFile(cfg.Out)
	if err != nil {
		t.Fatal(err)
	}
	d := f.Meta.Data
	if f.Meta.Arch != weights.ArchUNet || f.Meta.Version() != 4 || !d.IsImage() || len(d.Classes) != 10 || d.Dim != 784 {
		t.Errorf("file: arch %q version %d data %+v", f.Meta.Arch, f.Meta.Version(), d)
	}
	spec, ok := f.Meta.Net.(*weights.UNetSpec)
	if !ok || spec.Config.Channels != 8 || spec.Config.Emb != 32 {
		t.Errorf("file's network %v, want the run's C = 8 U-Net", f.Meta.Net)
	}
	if want := fmt.Sprint(Default().LabelDrop); f.Meta.Provenance.Notes["label_drop"] != want {
		t.Errorf("provenance notes %v: no label_drop %s", f.Meta.Provenance.Notes, want)
	}
}

// TestImageResume: an image run stopped after a checkpoint and resumed writes the same
// model, bit for bit, as the run left alone (the stream's state, Adam's moments and the
// EMA all come back).
func TestImageResume(t *testing.T) {
	full := smallImages(t, 12)
	full.CkptEvery = 4
	if _, err := Run(context.Background(), full, Options{NoVerify: true}); err != nil {
		t.Fatal(err)
	}
	part := full
	part.Out = filepath.Join(t.TempDir(), "r.safetensors")
	if _, err := Run(context.Background(), part, Options{NoVerify: true, StopAfter: 6}); !errors.Is(err, ErrStopped) {
		t.Fatalf("StopAfter: err = %v", err)
	}
	part.Resume = true
	res, err := Run(context.Background(), part, Options{NoVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.StartStep != 4 {
		t.Fatalf("resumed from step %d, want 4", res.StartStep)
	}
	a, _ := weights.ReadFile(full.Out)
	b, _ := weights.ReadFile(part.Out)
	for k := range a.Tensors {
		for i, v := range a.Tensors[k].Data {
			if b.Tensors[k].Data[i] != v {
				t.Fatalf("%s[%d]: resumed %v, uninterrupted %v", a.Tensors[k].Name, i, b.Tensors[k].Data[i], v)
			}
		}
	}
}

// TestImageFlags: the image recipe's defaults fill the flags left out (and only
// those), and settings that do not apply to images are refused in one line.
func TestImageFlags(t *testing.T) {
	needFashion(t)
	out := filepath.Join(t.TempDir(), "m.safetensors")
	c, err := ParseFlags(cli.Env{Args: []string{"-data", DataFashion, "-o", out, "-lr", "3e-4"}, Stderr: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Batch != 64 || c.Steps != 38000 || c.EMA != 0.9995 || c.LR != 3e-4 || c.MinLRFrac != 0.1 || c.Channels != 16 || c.LabelDrop != 0.3 {
		t.Errorf("defaults: batch %d steps %d ema %g lr %g min-lr %g channels %d label-drop %g", c.Batch, c.Steps, c.EMA, c.LR, c.MinLRFrac, c.Channels, c.LabelDrop)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"-path", "vp"}, "-path ot only"},
		{[]string{"-coupling", "ot"}, "-coupling independent"},
		{[]string{"-label-drop", "1"}, "-label-drop must be in [0, 1)"},
		{[]string{"-channels", "3"}, "-channels must be an even number"},
		{[]string{"-channels", "6"}, "GroupNorm"},
		{[]string{"-engine", "go"}, "-engine torch only"},
	} {
		args := append([]string{"-data", DataFashion, "-o", out}, bad.args...)
		_, err := ParseFlags(cli.Env{Args: args, Stderr: &bytes.Buffer{}})
		var ue *cli.UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), bad.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: err = %v, want a one-line usage error with %q", bad.args, err, bad.want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused run left %s", out)
	}
}

// TestInitUNet: PyTorch's default initialisation, tensor by tensor: GroupNorm scales 1
// and shifts 0, weights and biases within ±1/√fan_in and spread over it, the class
// embedding standard normal.
func TestInitUNet(t *testing.T) {
	u := unet.Default()
	tensors := unflattenUNet(u, initUNet(u, 1))
	for _, ts := range u.Tensors() {
		v := tensors[ts.Name]
		lo, hi := v[0], v[0]
		for _, x := range v {
			lo, hi = min(lo, x), max(hi, x)
		}
		switch {
		case isNorm(ts.Name) && strings.HasSuffix(ts.Name, "weight"):
			if lo != 1 || hi != 1 {
				t.Errorf("%s in [%g, %g], want 1", ts.Name, lo, hi)
			}
		case isNorm(ts.Name):
			if lo != 0 || hi != 0 {
				t.Errorf("%s in [%g, %g], want 0", ts.Name, lo, hi)
			}
		case ts.Name == "y.weight":
			if hi < 2 || lo > -2 {
				t.Errorf("%s in [%g, %g]: not standard normal", ts.Name, lo, hi)
			}
		case len(ts.Shape) > 1:
			fan := len(v) / ts.Shape[0]
			b := float32(1 / math.Sqrt(float64(fan)))
			if hi > b || lo < -b || len(v) > 100 && (hi < 0.8*b || lo > -0.8*b) {
				t.Errorf("%s in [%g, %g], want spread over ±%g", ts.Name, lo, hi, b)
			}
		}
	}
}
