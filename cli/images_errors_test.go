package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/unet"
	"github.com/flowmatch/flowmatch/weights"
)

// TestSampleImagesBadInput: every wrong flag, class, guidance, output or model kind is
// one line on stderr naming what was wrong, exit 2, and no file written.
func TestSampleImagesBadInput(t *testing.T) {
	dir := t.TempDir()
	img := writeImageModel(t, dir, "img.safetensors", smallFashionUNet())
	pts := testModel(t, dir)
	if err := os.Mkdir(filepath.Join(dir, "folder"), 0o755); err != nil {
		t.Fatal(err)
	}
	in := func(name string) string { return filepath.Join(dir, name) }
	truncated := in("truncated.safetensors")
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(truncated, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	vp := writeImageModelEdit(t, dir, "vp.safetensors", func(m *weights.Meta) { m.Path = weights.PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathVP}} })
	noPixels := writeImageModelEdit(t, dir, "nopixels.safetensors", func(m *weights.Meta) { m.Data.Pixels = nil })
	before := listDir(t, dir)

	sample := []string{"sample", "-model", img, "-n", "4"}
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"-class", "12", "-o", in("x.npy")}, []string{"-class 12 is not a class: want all, 0 to 9, or a name (0 T-shirt/top, 1 Trouser,", "9 Ankle boot)"}},
		{[]string{"-class", "-1", "-o", in("x.npy")}, []string{"-class -1 is not a class: want all, 0 to 9"}},
		{[]string{"-class", "hat", "-o", in("x.npy")}, []string{`-class "hat" is not a class of this model: want all, 0 to 9, or a name (0 T-shirt/top`}},
		{[]string{"-class", "", "-o", in("x.npy")}, []string{`-class "" is not a class`}},
		{[]string{"-guidance", "-1", "-o", in("x.npy")}, []string{"-guidance must be finite and at least 0 (got -1)"}},
		{[]string{"-guidance", "NaN", "-o", in("x.npy")}, []string{"-guidance must be finite and at least 0 (got NaN)"}},
		{[]string{"-guidance", "Inf", "-o", in("x.npy")}, []string{"-guidance must be finite and at least 0 (got +Inf)"}},
		{[]string{"-o", in("x.csv")}, []string{"is an image model: write -o FILE.png (a grid of the images) or -o FILE.npy"}},
		{nil, []string{"-o -: ", "is an image model: write -o FILE.png"}},
		{[]string{"-o", in("folder")}, []string{"-o: ", "is a folder"}},
		{[]string{"-o", in("missing/x.npy")}, []string{"-o: "}},
		{[]string{"-o", in("x.npy"), "-labels", in("missing/y.npy")}, []string{"-labels: "}},
		{[]string{"-o", in("x.npy"), "-trajectories", in("t.csv")}, []string{"-trajectories applies to models of points;", "is an image model"}},
		{[]string{"-o", in("g.png"), "-density"}, []string{"-density applies to models of points"}},
		{[]string{"-o", in("g.png"), "-size", "300"}, []string{"-size applies to models of points", "(-scale zooms an image grid)"}},
		{[]string{"-o", in("x.npy"), "-paths", "3"}, []string{"-paths applies to models of points"}},
		{[]string{"-o", in("x.npy"), "-solver", "dopri5"}, []string{"-solver dopri5: images are sampled with a fixed-step solver (euler, midpoint, heun, rk4)"}},
		{[]string{"-o", in("x.npy"), "-labels", in("y.csv")}, []string{"the classes are written as NumPy's format: name a .npy file"}},
		{[]string{"-o", in("x.npy"), "-labels", in("x.npy")}, []string{"-o and -labels are the same file"}},
		{[]string{"-o", in("g.png"), "-scale", "0"}, []string{"-scale must be 1 to 16 (got 0)"}},
		{[]string{"-o", in("g.png"), "-scale", "17"}, []string{"-scale must be 1 to 16 (got 17)"}},
		{[]string{"-o", in("x.npy"), "-scale", "2"}, []string{"-scale applies to a PNG grid"}},
		{[]string{"-o", in("x.npy"), "-n", "2000000"}, []string{"-n 2000000 is too many: at most 1000000 images"}},
		{[]string{"-o", in("g.png"), "-n", "100000", "-scale", "16"}, []string{"make a", "grid, more than 64 M pixels: lower -n or -scale, or write .npy"}},
		{[]string{"-o", in("x.npy"), "-nfe", "3"}, []string{"-nfe 3 is not a whole number of midpoint steps"}},
	}
	for _, c := range cases {
		checkBad(t, dir, before, append(slices.Clone(sample), c.args...), c.want...)
	}

	// A model of points takes none of the image flags.
	for _, f := range [][]string{{"-class", "3"}, {"-guidance", "1"}, {"-labels", in("y.npy")}, {"-scale", "2"}} {
		checkBad(t, dir, before, append([]string{"sample", "-model", pts, "-n", "4", "-o", in("x.csv")}, f...),
			f[0]+" applies to image models; "+pts+" generates 2-D points of moons")
	}
	// The commands that work on points take no image model.
	for _, cmd := range []string{"encode", "loglik"} {
		checkBad(t, dir, before, []string{cmd, "-model", img, "-in", "-", "-o", in("out.csv")},
			img+" is an image model (fashion-mnist, 1×28×28): "+cmd+" works on models of points")
	}
	// A file cut short, and an image model off the OT path.
	for _, cmd := range [][]string{{"sample", "-model", truncated, "-o", in("x.npy")}, {"inspect", truncated}} {
		checkBad(t, dir, before, cmd, "truncated.safetensors")
	}
	checkBad(t, dir, before, []string{"sample", "-model", vp, "-o", in("x.npy")}, "an image model's path must be ot on t ∈ [0, 1] (this one is vp")
	checkBad(t, dir, before, []string{"sample", "-model", noPixels, "-o", in("x.npy")}, "a U-Net whose file gives no pixel range (data.pixels")
}

// checkBad runs flowmatch with args and wants exit 2, one line on stderr holding every
// want, and the files of dir as they were.
func checkBad(t *testing.T, dir string, before []string, args []string, want ...string) {
	t.Helper()
	code, stdout, stderr := fmRun(args...)
	if code != 2 || strings.Count(stderr, "\n") != 1 || stdout != "" {
		t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line on stderr", args[1:], code, stdout, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("%v: stderr %q lacks %q", args[1:], stderr, w)
		}
	}
	if after := listDir(t, dir); !slices.Equal(after, before) {
		t.Errorf("%v: files %v, want %v as before", args[1:], after, before)
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		names = append(names, strings.TrimPrefix(path, dir))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// writeImageModelEdit is writeImageModel's file with its metadata changed by edit.
func writeImageModelEdit(t *testing.T, dir, name string, edit func(*weights.Meta)) string {
	t.Helper()
	f, err := weights.ReadFile(writeImageModel(t, t.TempDir(), name, smallFashionUNet()))
	if err != nil {
		t.Fatal(err)
	}
	edit(&f.Meta)
	tensors := map[string][]float32{}
	for _, ts := range f.Tensors {
		tensors[ts.Name] = ts.Data
	}
	g, err := weights.NewFileTensors(f.Meta, tensors)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	if err := weights.WriteFile(out, g, weights.F32); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestInspectUNet: inspect shows a U-Net's configuration, its cost per sample and as
// float16, and the images' shape, pixel range and class names.
func TestInspectUNet(t *testing.T) {
	dir := t.TempDir()
	cfg := unet.Default()
	model := writeImageModel(t, dir, "img.safetensors", cfg)
	code, stdout, stderr := fmRun("inspect", model)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// The table's columns are as wide as their widest entry: compare words.
	text := strings.Join(strings.Fields(stdout), " ")
	for _, want := range []string{
		"U-Net (arch unet), " + commas(cfg.Params()) + " parameters",
		"levels       3: 28×28 × 16, 14×14 × 32, 7×7 × 32 channels (C 16, mult [1 2 2])",
		"1 residual block a level down and up, and one in the middle; GroupNorm(8), SiLU",
		"16 sinusoidal time features → 64; 10 classes and the null class",
		commas(int(cfg.MACs())) + " multiply-adds a sample's forward pass",
		commas(cfg.Float16Bytes()) + " bytes",
		"fashion-mnist, dim 784, no normalization",
		"shape        1×28×28 (channels × height × width)",
		"network value -1 is black (intensity 0), 1 white (1)",
		"0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot",
		"ot (sigma_min 0), trained on t ∈ [0, 1]",
		"command        test: random weights",
		"format         flowmatch version 4",
	} {
		if !strings.Contains(text, strings.Join(strings.Fields(want), " ")) {
			t.Errorf("inspect output lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, _ = fmRun("inspect", "-json", model)
	if code != 0 || !strings.Contains(stdout, `"macs_per_sample": `) || !strings.Contains(stdout, `"float16_bytes": `) || !strings.Contains(stdout, `"level_sides": [`) {
		t.Errorf("inspect -json: exit %d, %s", code, stdout)
	}
}
