package cli

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// readPNG decodes a PNG and counts its pixels near the samples' blue and the density's
// orange.
func readPNG(t *testing.T, path string) (img image.Image, blue, orange int) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err = png.Decode(fh)
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", path, err)
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			switch {
			case bl > 150 && r < 120 && g < 150:
				blue++
			case r > 240 && g < 235 && bl < 200 && g > bl:
				orange++
			}
		}
	}
	return img, blue, orange
}

// TestSamplePictures: -o X.png draws the samples (the first two coordinates; a
// histogram in one dimension), -trajectories X.png their paths, -size sets the pixels,
// -density shades the data behind; and nothing but the picture is written.
func TestSamplePictures(t *testing.T) {
	dir := t.TempDir()
	model := testModel(t, dir) // moons, 2-D
	one := writeModel(t, dir, "one.safetensors", weights.Meta{
		Model: sampler.MLPSpec{Dim: 1, Hidden: []int{8}},
		Path:  weights.PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}},
	}, weights.F32)
	three := writeModel(t, dir, "three.safetensors", weights.Meta{
		Model: sampler.MLPSpec{Dim: 3, Hidden: []int{8}},
		Path:  weights.PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathVE}},
		Data:  weights.DataInfo{Name: "cubes"},
	}, weights.F32)
	for _, c := range []struct {
		name         string
		args         []string
		size         int
		wantOrange   bool
		trajectories bool
	}{
		{"plain", []string{"-model", model, "-n", "500"}, 800, false, false},
		{"density", []string{"-model", model, "-n", "500", "-density", "-size", "300"}, 300, true, true},
		{"many", []string{"-model", model, "-n", "3000", "-size", "200", "-solver", "dopri5"}, 200, false, true},
		{"one-dim", []string{"-model", one, "-n", "400", "-size", "256"}, 256, false, true},
		{"three-dim", []string{"-model", three, "-n", "400", "-size", "256", "-paths", "5"}, 256, false, true},
	} {
		sub := t.TempDir()
		out := filepath.Join(sub, "s.PNG") // the extension in any case
		args := append([]string{"sample", "-o", out}, c.args...)
		traj := filepath.Join(sub, "t.png")
		if c.trajectories {
			args = append(args, "-trajectories", traj)
		}
		code, stdout, stderr := fmRun(args...)
		if code != 0 || stdout != "" || strings.Count(stderr, "\n") != 1 {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q", c.name, code, stdout, stderr)
		}
		files := []string{out}
		if c.trajectories {
			files = append(files, traj)
		}
		for _, file := range files {
			img, blue, orange := readPNG(t, file)
			if b := img.Bounds(); b.Dx() != c.size || b.Dy() != c.size {
				t.Errorf("%s: %s is %v, want %d×%d", c.name, filepath.Base(file), b.Size(), c.size, c.size)
			}
			minBlue := 20
			if file == traj {
				minBlue = 1 // a few paths' ends are a few pixels
			}
			if blue < minBlue {
				t.Errorf("%s: %s has %d blue pixels: no samples drawn?", c.name, filepath.Base(file), blue)
			}
			if (orange > 100) != c.wantOrange {
				t.Errorf("%s: %s has %d orange pixels, want density %v", c.name, filepath.Base(file), orange, c.wantOrange)
			}
		}
		if entries, _ := os.ReadDir(sub); len(entries) != len(files) {
			t.Errorf("%s: folder holds %v, want %v", c.name, entries, files)
		}
	}
}

func TestBoxSquare(t *testing.T) {
	for _, b := range []box{emptyBox(), {1, 1, 2, 2}, {0, 0, 0, 0}, {1e30, 1e30, -1e30, -1e30}, {-1, 3, 0, 1}} {
		if b.x0 > b.x1 && b != emptyBox() {
			b.x0, b.x1 = b.x1, b.x0
		}
		s := b.square()
		if !(s.x1 > s.x0 && s.y1 > s.y0) || s.x1-s.x0 != s.y1-s.y0 {
			t.Errorf("%v.square() = %v: want a square of positive size", b, s)
		}
	}
	if s := (box{-1, 3, 0, 1}).square(); s.x0 > -1 || s.x1 < 3 || s.y0 > 0 || s.y1 < 1 {
		t.Errorf("square %v does not hold the box", s)
	}
}

// TestPicturesOddInput: one point, points all alike, far-away points: a picture, never a
// panic.
func TestPicturesOddInput(t *testing.T) {
	dir := t.TempDir()
	density, err := newDensityMap("moons")
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		x []float32
		d int
	}{
		{[]float32{1, 2}, 2},
		{[]float32{0.5}, 1},
		{[]float32{3, 3, 3, 3}, 1},
		{[]float32{1, 1, 1, 1, 1, 1}, 2},
		{[]float32{1e30, -1e30, -1e30, 1e30}, 2},
		{[]float32{3e38, 3e38, -3e38, -3e38}, 2},
		{[]float32{0, 0, 0, 1e-30, 1e-30, 1e-30}, 3},
		{[]float32{-3e38, 3e38}, 1},
	} {
		for _, st := range []pictureStyle{{size: 100}, {size: 150, density: density, caption: "a caption"}} {
			if c.d != 2 && st.density != nil {
				continue
			}
			file := filepath.Join(dir, "s.png")
			if err := drawSamples(file, c.x, c.d, "odd", st); err != nil {
				t.Errorf("case %d: samples: %v", i, err)
			}
			n := len(c.x) / c.d
			tr := &trajectories{k: n, d: c.d, t: []float64{0, 1}, x: [][]float32{c.x, c.x}}
			if err := drawTrajectories(file, tr, "odd", st); err != nil {
				t.Errorf("case %d: trajectories: %v", i, err)
			}
			tr.t, tr.x = tr.t[:1], tr.x[:1]
			if err := drawTrajectories(file, tr, "odd", st); err != nil {
				t.Errorf("case %d: one state: %v", i, err)
			}
		}
	}
}
