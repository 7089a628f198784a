package weights

import (
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/unet"
)

// smallUNet is a U-Net small enough for fuzz seeds: 1×4×4, two levels.
func smallUNet() unet.Config {
	return unet.Config{Shape: []int{1, 4, 4}, Channels: 2, Mult: []int{1, 2}, Blocks: 1, Groups: 2,
		TimeFeatures: 2, Emb: 3, Classes: 2}
}

// unetFile is a file of cfg with unet.RandomTensors' values, for Fashion-MNIST-like data.
func unetFile(t testing.TB, cfg unet.Config, seed uint64) *File {
	t.Helper()
	tensors := unet.RandomTensors(cfg, seed)
	classes := make([]string, cfg.Classes)
	for i := range classes {
		classes[i] = "class " + string(rune('a'+i%26))
	}
	meta := Meta{Arch: ArchUNet, Net: &UNetSpec{cfg},
		Path: PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}},
		Data: DataInfo{Name: "fashion-mnist", Shape: cfg.Shape, Classes: classes}}
	f, err := NewFileTensors(meta, tensors)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestUNetFile: a U-Net file is written as version 2 with its arch and full spec, reads
// back identically from each dtype, and builds the network that unet.New builds from
// the same values, bit for bit.
func TestUNetFile(t *testing.T) {
	for _, cfg := range []unet.Config{smallUNet(), unet.Default()} {
		f := unetFile(t, cfg, 1)
		for _, dtype := range DTypes() {
			b := must(Marshal(f, dtype))
			hdr, _ := splitFile(t, b)
			for _, want := range []string{`"arch":"unet"`, `"format_version":"2"`, `\"time_features\":`, `\"classes\":` + strconv.Itoa(cfg.Classes)} {
				if !strings.Contains(hdr, want) {
					t.Fatalf("%s header lacks %s: %s", dtype, want, hdr)
				}
			}
			g, err := DecodeBytes(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g.Meta, f.Meta) {
				t.Fatalf("%s: metadata changed:\n got %+v\nwant %+v", dtype, g.Meta, f.Meta)
			}
			field, _, err := g.Field()
			if err != nil {
				t.Fatal(err)
			}
			net, ok := field.(*unet.Net)
			if !ok {
				t.Fatalf("Field is a %T, want a *unet.Net", field)
			}
			tensors := map[string][]float32{}
			for _, ts := range g.Tensors {
				tensors[ts.Name] = ts.Data
			}
			direct := must(unet.New(cfg, tensors))
			x := make([]float32, 2*cfg.Dim())
			for i := range x {
				x[i] = float32(i%7) - 3
			}
			v1, v2 := make([]float32, len(x)), make([]float32, len(x))
			net.Velocity(v1, x, 0.3)
			direct.Velocity(v2, x, 0.3)
			if !reflect.DeepEqual(v1, v2) {
				t.Fatalf("%s: the file's network differs from unet.New's", dtype)
			}
		}
	}
}

// TestUNetHostile: a U-Net file is refused, with a message saying why, when it is
// version 1, asks for an absurd network, has a field the spec does not know, a tensor
// of the wrong shape or a missing one, or data of another dimension.
func TestUNetHostile(t *testing.T) {
	b := must(Marshal(unetFile(t, smallUNet(), 2), F32))
	hdr, data := splitFile(t, b)
	cases := []struct{ old, new, want string }{
		{`"format_version":"2"`, `"format_version":"1"`, `format version 1, but arch "unet" needs version 2`},
		{`\"channels\":2`, `\"channels\":100000000`, "unet: channels 100000000, want 1 to 256"},
		{`\"mult\":[1,2]`, `\"mult\":[1,2,2,2,2,2,2,2,2]`, "unet: levels 9, want 1 to 4"},
		{`\"emb\":3`, `\"emb\":3,\"heads\":4`, `unknown field "heads"`},
		{`\"shape\":[1,4,4],\"channels\"`, `\"shape\":[1,4,5],\"channels\"`, "not divisible by 2"},
		{`"t.0.weight":{"dtype":"F32","shape":[3,2]`, `"t.0.weight":{"dtype":"F32","shape":[2,3]`, `tensor "t.0.weight": shape [2 3] but model says [3 2]`},
		{`"mid.c1.bias"`, `"mid.c1.bias2"`, `unexpected tensor "mid.c1.bias2"`},
	}
	for _, c := range cases {
		if !strings.Contains(hdr, c.old) {
			t.Fatalf("%q not in %s", c.old, hdr)
		}
		_, err := DecodeBytes(join(strings.Replace(hdr, c.old, c.new, 1), data))
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s → %s: error %v, want one line saying %q", c.old, c.new, err, c.want)
		}
	}
}

// TestUNetSample: File.Sample integrates a U-Net file's (unconditional) field: n rows of
// dim finite values, two midpoint steps costing four evaluations; and WriteFile writes a
// file ReadFile reads back, for the command line's inspect.
func TestUNetSample(t *testing.T) {
	f := unetFile(t, smallUNet(), 4)
	x, st, err := f.Sample(3, rand.New(rand.NewPCG(1, 2)), sampler.Options{Method: sampler.Midpoint, Steps: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(x) != 3*16 || st.NFE != 4 {
		t.Fatalf("%d values, %d evaluations", len(x), st.NFE)
	}
	for i, v := range x {
		if v != v || v > 1e30 || v < -1e30 {
			t.Fatalf("x[%d] = %g", i, v)
		}
	}
	path := t.TempDir() + "/unet.safetensors"
	if err := WriteFile(path, f, F16); err != nil {
		t.Fatal(err)
	}
	if g, err := ReadFile(path); err != nil || g.Meta.Arch != ArchUNet {
		t.Fatalf("ReadFile: %v", err)
	}
}
