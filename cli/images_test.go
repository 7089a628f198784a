package cli

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/eval"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/unet"
	"github.com/flowmatch/flowmatch/weights"
)

// smallFashionUNet is a U-Net of Fashion-MNIST's shape, narrow enough that tests
// sample it in milliseconds.
func smallFashionUNet() unet.Config {
	return unet.Config{Shape: []int{1, 28, 28}, Channels: 4, Mult: []int{1, 2}, Blocks: 1, Groups: 2,
		TimeFeatures: 4, Emb: 8, Classes: 10}
}

// writeImageModel writes a random-initialised U-Net file of cfg for Fashion-MNIST (the
// metadata the shipped model has) to dir and returns its path.
func writeImageModel(t *testing.T, dir, name string, cfg unet.Config) string {
	t.Helper()
	tensors := unet.RandomTensors(cfg, uint64(len(name)))
	meta := weights.Meta{Arch: weights.ArchUNet, Net: &weights.UNetSpec{Config: cfg},
		Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}},
		Data: weights.DataInfo{Name: "fashion-mnist", Dim: cfg.Dim(), Shape: cfg.Shape,
			Classes: dataset.FashionMNISTClasses(), Pixels: []float64{-1, 1}},
		Provenance: weights.Provenance{Command: "test: random weights", Seed: 5}}
	f, err := weights.NewFileTensors(meta, tensors)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := weights.WriteFile(path, f, weights.F32); err != nil {
		t.Fatal(err)
	}
	return path
}

// npyArray is a .npy file read independently of the writer: its header's fields and
// its raw data.
type npyArray struct {
	descr string
	shape []int
	data  []byte
}

func readNPYFile(t *testing.T, path string) npyArray {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 10 || string(b[:8]) != "\x93NUMPY\x01\x00" {
		t.Fatalf("%s: not a version 1.0 .npy file", path)
	}
	hl := int(binary.LittleEndian.Uint16(b[8:10]))
	if (10+hl)%64 != 0 || len(b) < 10+hl || b[10+hl-1] != '\n' {
		t.Fatalf("%s: header of %d bytes does not end a 64-byte block with a newline", path, hl)
	}
	h := string(b[10 : 10+hl])
	m := regexp.MustCompile(`^\{'descr': '([<>a-z0-9]+)', 'fortran_order': False, 'shape': \(([0-9, ]*)\), \} *\n$`).FindStringSubmatch(h)
	if m == nil {
		t.Fatalf("%s: header %q", path, h)
	}
	a := npyArray{descr: m[1], data: b[10+hl:]}
	for _, s := range strings.Split(m[2], ",") {
		if s = strings.TrimSpace(s); s != "" {
			v, _ := strconv.Atoi(s)
			a.shape = append(a.shape, v)
		}
	}
	return a
}

func (a npyArray) float32s() []float32 {
	x := make([]float32, len(a.data)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(a.data[4*i:]))
	}
	return x
}

func (a npyArray) int64s() []int64 {
	y := make([]int64, len(a.data)/8)
	for i := range y {
		y[i] = int64(binary.LittleEndian.Uint64(a.data[8*i:]))
	}
	return y
}

// TestSampleImagesNPY: -o x.npy writes n×28×28 float32 intensities in [0, 1], exactly
// eval.SampleImages's images (same seed, classes, guidance, solver) mapped by
// DataInfo.ToPixels; -labels the classes, i mod 10 for -class all and K for one class,
// by number or by name.
func TestSampleImagesNPY(t *testing.T) {
	dir := t.TempDir()
	cfg := smallFashionUNet()
	model := writeImageModel(t, dir, "img.safetensors", cfg)
	x, y := filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy")
	code, _, stderr := fmRun("sample", "-model", model, "-n", "20", "-nfe", "2", "-seed", "3", "-o", x, "-labels", y)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "20 images of fashion-mnist (1×28×28), classes 0 to 9 in turn, guidance 1, midpoint, 1 steps, NFE 2, seed 3") {
		t.Errorf("summary line: %q", stderr)
	}
	a := readNPYFile(t, x)
	if a.descr != "<f4" || fmt.Sprint(a.shape) != "[20 28 28]" || len(a.data) != 20*784*4 {
		t.Fatalf("x.npy: descr %s, shape %v, %d data bytes; want <f4, [20 28 28], %d", a.descr, a.shape, len(a.data), 20*784*4)
	}
	got := a.float32s()
	f, err := weights.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	field, _, _ := f.Field()
	want, err := eval.SampleImages(field.(*unet.Net), eval.ImageOptions{N: 20, Guidance: 1, Solver: sampler.Midpoint, NFE: 2, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	f.Meta.Data.ToPixels(want)
	lo, hi := float32(1), float32(0)
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("value %d: %v, eval.SampleImages then ToPixels gives %v", i, got[i], want[i])
		}
		lo, hi = min(lo, got[i]), max(hi, got[i])
	}
	if lo < 0 || hi > 1 || hi-lo < 0.1 {
		t.Errorf("intensities span [%v, %v], want a spread within [0, 1]", lo, hi)
	}
	l := readNPYFile(t, y)
	if l.descr != "<i8" || fmt.Sprint(l.shape) != "[20]" {
		t.Fatalf("y.npy: descr %s, shape %v; want <i8, [20]", l.descr, l.shape)
	}
	for i, c := range l.int64s() {
		if c != int64(i%10) {
			t.Fatalf("label %d is %d, want %d", i, c, i%10)
		}
	}

	// One class, by number or any spelling of its name.
	for _, c := range []struct {
		class string
		want  int64
	}{{"7", 7}, {"Sneaker", 7}, {"ankle boot", 9}, {"Ankle-Boot", 9}, {"t-shirt", 0}, {"TOP", 0}, {"T-shirt/top", 0}, {"dress", 3}} {
		code, _, stderr := fmRun("sample", "-model", model, "-n", "3", "-nfe", "2", "-class", c.class, "-o", x, "-labels", y)
		if code != 0 {
			t.Fatalf("-class %s: exit %d: %s", c.class, code, stderr)
		}
		for i, got := range readNPYFile(t, y).int64s() {
			if got != c.want {
				t.Errorf("-class %q: label %d is %d, want %d", c.class, i, got, c.want)
			}
		}
	}
}

// TestSampleImagesGrid: -o grid.png draws a row per class for -class all (image i in
// row i mod 10, column i / 10, after a margin of names) and a near-square grid for one
// class, -scale pixels per image pixel; each cell holds its image's intensities, as the
// .npy of the same run holds them.
func TestSampleImagesGrid(t *testing.T) {
	dir := t.TempDir()
	model := writeImageModel(t, dir, "img.safetensors", smallFashionUNet())
	x, grid := filepath.Join(dir, "x.npy"), filepath.Join(dir, "grid.png")
	for _, c := range []struct {
		class      string
		n, scale   int
		rows, cols int
		names      bool
	}{
		{"all", 20, 1, 10, 2, true},
		{"all", 25, 2, 10, 3, true},
		{"all", 4, 3, 4, 1, true},
		{"Sneaker", 5, 1, 2, 3, false},
		{"2", 9, 2, 3, 3, false},
		{"2", 1, 1, 1, 1, false},
	} {
		args := []string{"sample", "-model", model, "-n", strconv.Itoa(c.n), "-nfe", "2", "-class", c.class, "-seed", "9"}
		if code, _, stderr := fmRun(append(args, "-o", x)...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		if code, _, stderr := fmRun(append(args, "-o", grid, "-scale", strconv.Itoa(c.scale))...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		px := readNPYFile(t, x).float32s()
		img := decodePNG(t, grid)
		s, b := c.scale, img.Bounds()
		height := c.rows*28*s + (c.rows+1)*s
		bare := c.cols*28*s + (c.cols+1)*s // the width without the names' margin
		margin := b.Dx() - bare
		if b.Dy() != height || (c.names && margin < 40) || (!c.names && margin != 0) {
			t.Fatalf("%v -scale %d: %dx%d picture, want height %d and width %d plus a margin of names (%v)",
				args, s, b.Dx(), b.Dy(), height, bare, c.names)
		}
		for i := range c.n {
			r, col := i/c.cols, i%c.cols
			if c.names {
				r, col = i%c.rows, i/c.rows
			}
			x0, y0 := margin+s+col*(28*s+s), s+r*(28*s+s)
			for p := range 784 {
				gx, gy := x0+(p%28)*s+s-1, y0+(p/28)*s+s-1 // the last screen pixel of the image pixel
				if got, want := img.GrayAt(gx, gy).Y, uint8(math.Round(255*float64(px[i*784+p]))); got != want {
					t.Fatalf("%v -scale %d: image %d pixel %d at (%d, %d) is %d, want %d", args, s, i, p, gx, gy, got, want)
				}
			}
		}
	}
}

func decodePNG(t *testing.T, path string) *image.Gray {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	g, ok := img.(*image.Gray)
	if !ok {
		t.Fatalf("%s is a %T, want a grey PNG", path, img)
	}
	return g
}

// TestSampleImagesSeed: the same seed writes the same bytes, another seed and another
// guidance other images.
func TestSampleImagesSeed(t *testing.T) {
	dir := t.TempDir()
	model := writeImageModel(t, dir, "img.safetensors", smallFashionUNet())
	run := func(extra ...string) []byte {
		out := filepath.Join(dir, "x.npy")
		args := append([]string{"sample", "-model", model, "-n", "6", "-nfe", "2", "-o", out}, extra...)
		if code, _, stderr := fmRun(args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := run("-seed", "4"), run("-seed", "4")
	if !bytes.Equal(a, b) {
		t.Error("-seed 4 twice wrote different images")
	}
	if bytes.Equal(a, run("-seed", "5")) {
		t.Error("-seed 5 wrote -seed 4's images")
	}
	if bytes.Equal(a, run("-seed", "4", "-guidance", "0")) {
		t.Error("-guidance 0 wrote -guidance 1's images")
	}
	if !bytes.Equal(a, run("-seed", "4", "-solver", "midpoint", "-nfe", "2", "-guidance", "1", "-class", "all")) {
		t.Error("the defaults given explicitly changed the images")
	}
}

// TestSampleImagesProgress: a bar counts images on stderr.
func TestSampleImagesProgress(t *testing.T) {
	forceProgress = true
	defer func() { forceProgress = false }()
	dir := t.TempDir()
	model := writeImageModel(t, dir, "img.safetensors", smallFashionUNet())
	code, _, stderr := fmRun("sample", "-model", model, "-n", "16", "-nfe", "2", "-o", filepath.Join(dir, "x.npy"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "sampling") || !strings.Contains(stderr, "/16, ") || !strings.Contains(stderr, "images/") {
		t.Errorf("no bar counting images on stderr: %q", stderr)
	}
}
