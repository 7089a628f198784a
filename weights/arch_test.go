package weights

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/sampler"
)

// TestUnknownArch checks the whole message for an arch this reader does not know.
func TestUnknownArch(t *testing.T) {
	b := must(Marshal(goldenFile(t), F32))
	hdr, data := splitFile(t, b)
	_, err := DecodeBytes(join(strings.Replace(hdr, `"arch":"mlp"`, `"arch":"unet2"`, 1), data))
	if err == nil || err.Error() != `weights: unknown network arch "unet2"` {
		t.Errorf("error %v, want exactly %q", err, `weights: unknown network arch "unet2"`)
	}
	f := goldenFile(t)
	f.Meta.Arch = "unet2"
	if _, err := Marshal(f, F32); err == nil || err.Error() != `weights: unknown network arch "unet2"` {
		t.Errorf("Marshal with Arch unet2: %v", err)
	}
}

func TestVersions(t *testing.T) {
	plain := goldenFile(t)
	v2 := goldenV2File(t)
	if plain.Meta.Version() != FormatVersion || v2.Meta.Version() != 2 {
		t.Errorf("versions %d and %d, want %d and 2", plain.Meta.Version(), v2.Meta.Version(), FormatVersion)
	}
	for _, c := range []struct {
		name string
		data DataInfo
		want int
	}{
		{"none", DataInfo{Dim: 2}, 1},
		{"empty lists", DataInfo{Dim: 2, Shape: []int{}, Classes: []string{}}, 1},
		{"shape", DataInfo{Dim: 2, Shape: []int{2}}, 2},
		{"classes", DataInfo{Dim: 2, Classes: []string{"a"}}, 2},
		{"normalization", DataInfo{Dim: 2, Normalization: &Normalization{Mean: []float64{1, 2}, Std: []float64{3, 4}}}, 1},
		{"constant coordinate", DataInfo{Dim: 2, Normalization: &Normalization{Mean: []float64{1, 2}, Std: []float64{3, 0}}}, 3},
		{"source", DataInfo{Dim: 2, Source: Source{Rows: 9}}, 3},
		{"source and classes", DataInfo{Dim: 2, Source: Source{Rows: 9}, Classes: []string{"a"}}, 3},
	} {
		m := Meta{Data: c.data}
		if v := m.Version(); v != c.want {
			t.Errorf("%s: version %d, want %d", c.name, v, c.want)
		}
	}
	if v := (&Meta{Arch: "unet"}).Version(); v != 2 {
		t.Errorf("arch unet: version %d, want 2", v)
	}

	// A version 2 file needs nothing of version 2: it reads, and is written back as
	// version 1.
	b := must(Marshal(plain, F32))
	hdr, data := splitFile(t, b)
	b2 := join(strings.Replace(hdr, `"format_version":"1"`, `"format_version":"2"`, 1), data)
	g, err := DecodeBytes(b2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, plain) {
		t.Errorf("the version 2 twin decodes to %+v, want %+v", g, plain)
	}
	if b3 := must(Marshal(g, F32)); !bytes.Equal(b3, b) {
		t.Error("the version 2 twin is not written back as the version 1 file")
	}

	// Empty shape and classes lists read as none, and are written as none.
	hdr2, data2 := splitFile(t, must(Marshal(v2, F32)))
	hdr2 = strings.Replace(hdr2, `\"shape\":[1,2]`, `\"shape\":[]`, 1)
	hdr2 = strings.Replace(hdr2, `\"classes\":[\"inner\",\"outer\"]`, `\"classes\":[]`, 1)
	g, err = DecodeBytes(join(hdr2, data2))
	if err != nil {
		t.Fatal(err)
	}
	if g.Meta.Data.Shape != nil || g.Meta.Data.Classes != nil || g.Meta.Version() != 1 {
		t.Errorf("empty lists decode to shape %#v, classes %#v (version %d)", g.Meta.Data.Shape, g.Meta.Data.Classes, g.Meta.Version())
	}

	// Shape and classes survive the round trip.
	g = must(DecodeBytes(must(Marshal(v2, F16))))
	if !reflect.DeepEqual(g.Meta, v2.Meta) {
		t.Errorf("version 2 metadata changed:\n got %+v\nwant %+v", g.Meta, v2.Meta)
	}
}

// TestMetaSpec checks how Arch, Model and Net make the network's spec, and that a Meta
// where they disagree is refused by Spec, Encode and NewFile alike.
func TestMetaSpec(t *testing.T) {
	mlp := sampler.MLPSpec{Dim: 2, Hidden: []int{3}, Activation: sampler.ActSiLU, Time: sampler.TimeEmbedding{Kind: sampler.TimeRaw}}
	for _, arch := range []string{"", ArchMLP} {
		m := Meta{Arch: arch, Model: mlp}
		s, err := m.Spec()
		if err != nil {
			t.Fatalf("arch %q: %v", arch, err)
		}
		if s.Arch() != ArchMLP || s.Dim() != 2 || s.String() != "3→3→2 silu" || s.Validate() != nil {
			t.Errorf("arch %q: spec %s of %q, dim %d", arch, s, s.Arch(), s.Dim())
		}
		want := []TensorSpec{{"layers.0.weight", []int{3, 3}}, {"layers.0.bias", []int{3}}, {"layers.1.weight", []int{2, 3}}, {"layers.1.bias", []int{2}}}
		if ts := s.Tensors(); !reflect.DeepEqual(ts, want) {
			t.Errorf("tensors %v, want %v", ts, want)
		}
	}
	if got := Archs(); !reflect.DeepEqual(got, []string{ArchMLP, ArchUNet, ArchClassifier}) {
		t.Errorf("Archs() = %v", got)
	}
	for _, a := range Archs() {
		if s := newSpec(a); s == nil || s.Arch() != a {
			t.Errorf("newSpec(%q) = %v", a, s)
		}
	}

	for _, c := range []struct {
		name string
		meta Meta
		want string
	}{
		{"unknown arch", Meta{Arch: "unet2", Model: mlp}, `unknown network arch "unet2"`},
		{"mlp with a Net", Meta{Arch: ArchMLP, Model: mlp, Net: otherSpec{"unet"}}, `arch "mlp", but Meta.Net holds a "unet" spec (an MLP's spec goes in Meta.Model)`},
		{"Net of an unknown kind", Meta{Net: otherSpec{"convnet"}}, `unknown network arch "convnet"`},
		{"Net of another kind than Arch", Meta{Arch: "convnet", Net: otherSpec{"mlp"}}, `unknown network arch "convnet"`},
		{"unet spec of the wrong type", Meta{Arch: ArchUNet, Net: otherSpec{"unet"}}, `arch "unet": Meta.Net is a weights.otherSpec, want a *weights.UNetSpec`},
		{"unet without a spec", Meta{Arch: ArchUNet}, `arch "unet", but Meta.Net holds no spec`},
	} {
		if _, err := c.meta.Spec(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Spec error %v, want %q", c.name, err, c.want)
		}
		m := c.meta
		m.Path = PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}}
		w, b := randomParams(rand.New(rand.NewPCG(1, 1)), mlp)
		if _, err := NewFile(m, w, b); err == nil {
			t.Errorf("%s: NewFile succeeded", c.name)
		}
		if _, err := NewFileTensors(m, map[string][]float32{"w": {1, 2}}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: NewFileTensors error %v, want %q", c.name, err, c.want)
		}
		f := goldenFile(t)
		f.Meta.Arch, f.Meta.Net = c.meta.Arch, c.meta.Net
		if _, err := Marshal(f, F32); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Marshal error %v, want %q", c.name, err, c.want)
		}
		if _, _, err := f.Field(); err == nil {
			t.Errorf("%s: Field succeeded", c.name)
		}
	}
	// An Arch NewFile does not make.
	w, b := randomParams(rand.New(rand.NewPCG(1, 1)), mlp)
	if _, err := NewFile(Meta{Arch: "unet", Path: PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}}}, w, b); err == nil ||
		!strings.Contains(err.Error(), `NewFile: arch "unet": NewFile makes MLPs`) {
		t.Errorf("NewFile of arch unet: %v", err)
	}
}

// TestField checks that Field builds the same network as Model, bit for bit, and that
// Sample, which uses Field, is unchanged.
func TestField(t *testing.T) {
	for mi, meta := range testMetas() {
		f := randomFile(t, uint64(mi), meta)
		net, path, err := f.Field()
		if err != nil {
			t.Fatal(err)
		}
		mlp, path2, err := f.Model()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := net.(*sampler.MLP); !ok {
			t.Fatalf("meta %d: Field is a %T, want *sampler.MLP", mi, net)
		}
		if path.Spec() != path2.Spec() || net.Dim() != mlp.Dim() || net.Dim() != meta.Model.Dim {
			t.Errorf("meta %d: Field and Model differ in path or dim", mi)
		}
		d := net.Dim()
		rng := rand.New(rand.NewPCG(5, 6))
		x := make([]float32, 33*d)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		v1, v2 := make([]float32, len(x)), make([]float32, len(x))
		net.Velocity(v1, x, 0.7)
		mlp.Velocity(v2, x, 0.7)
		for i := range v1 {
			if math.Float32bits(v1[i]) != math.Float32bits(v2[i]) {
				t.Fatalf("meta %d: velocity %d: Field gives %v, Model %v", mi, i, v1[i], v2[i])
			}
		}
	}
	// A File that does not validate has no Field.
	f := goldenFile(t)
	f.Tensors = f.Tensors[:3]
	if _, _, err := f.Field(); err == nil || !strings.Contains(err.Error(), `tensor "layers.1.bias" is missing`) {
		t.Errorf("Field of a file missing a tensor: %v", err)
	}
}

func TestNewFileTensors(t *testing.T) {
	for mi, meta := range testMetas() {
		f := randomFile(t, uint64(mi), meta)
		tensors := map[string][]float32{}
		for _, ft := range f.Tensors {
			tensors[ft.Name] = ft.Data
		}
		g, err := NewFileTensors(meta, tensors)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, f) {
			t.Errorf("meta %d: NewFileTensors gives\n%+v\nNewFile\n%+v", mi, g, f)
		}
		if &g.Tensors[0].Data[0] == &f.Tensors[0].Data[0] {
			t.Errorf("meta %d: NewFileTensors kept the caller's slice", mi)
		}
	}
	meta := Meta{Model: sampler.MLPSpec{Dim: 2, Hidden: []int{3}}, Path: PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}}}
	good := map[string][]float32{
		"layers.0.weight": make([]float32, 9), "layers.0.bias": make([]float32, 3),
		"layers.1.weight": make([]float32, 6), "layers.1.bias": make([]float32, 2),
	}
	with := func(change func(m map[string][]float32)) map[string][]float32 {
		m := map[string][]float32{}
		for k, v := range good {
			m[k] = v
		}
		change(m)
		return m
	}
	for _, c := range []struct {
		name    string
		meta    Meta
		tensors map[string][]float32
		want    string
	}{
		{"missing", meta, with(func(m map[string][]float32) { delete(m, "layers.1.bias") }),
			`NewFileTensors: tensor "layers.1.bias" is missing (model 3→3→2 silu needs 4 tensors, got 3)`},
		{"unexpected", meta, with(func(m map[string][]float32) { m["layers.2.bias"] = []float32{1} }),
			`NewFileTensors: unexpected tensor "layers.2.bias": the mlp network 3→3→2 silu holds 4 tensors`},
		{"short", meta, with(func(m map[string][]float32) { m["layers.0.bias"] = []float32{1} }),
			`tensor "layers.0.bias": shape [3] needs 3 values, has 1`},
		{"NaN", meta, with(func(m map[string][]float32) { m["layers.1.bias"] = []float32{0, float32(math.NaN())} }),
			`tensor "layers.1.bias": value 1 ([1]) is NaN`},
		{"bad spec", Meta{Model: sampler.MLPSpec{Dim: 2}, Path: meta.Path}, good, `NewFileTensors: sampler: mlp: 0 hidden layers`},
		{"bad path", Meta{Model: meta.Model}, good, `NewFileTensors: sampler: unknown path ""`},
		{"shape product", Meta{Model: meta.Model, Path: meta.Path, Data: DataInfo{Shape: []int{3}}}, good, `shape [3] holds 3 values, but dim is 2`},
	} {
		if _, err := NewFileTensors(c.meta, c.tensors); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: NewFileTensors error %v, want %q", c.name, err, c.want)
		}
	}
}

// TestDataShapeClasses checks the encoder's side of the data's shape and classes.
func TestDataShapeClasses(t *testing.T) {
	for _, c := range []struct {
		name string
		data DataInfo
		want string
	}{
		{"shape product", DataInfo{Dim: 2, Shape: []int{1, 28, 28}}, `metadata "data": shape [1 28 28] holds 784 values, but dim is 2`},
		{"shape overflow", DataInfo{Dim: 2, Shape: []int{math.MaxInt, math.MaxInt, 2}}, `holds more than dim = 2 values`},
		{"shape extent", DataInfo{Dim: 2, Shape: []int{2, 0}}, `shape [2 0]: extent 0, want each at least 1`},
		{"classes repeated", DataInfo{Dim: 2, Classes: []string{"x", "y", "y"}}, `classes 1 and 2 are both "y"`},
		{"class not UTF-8", DataInfo{Dim: 2, Classes: []string{"\xff"}}, `class 0 is "\xff", want a non-empty UTF-8 name`},
		{"too many classes", DataInfo{Dim: 2, Classes: make([]string, MaxClasses+1)}, `65537 classes, want at most 65536`},
	} {
		f := goldenFile(t)
		f.Meta.Data = c.data
		if _, err := Marshal(f, F32); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Marshal error %v, want %q", c.name, err, c.want)
		}
	}
	// Extents of 1 anywhere are fine; ToData and FromData ignore the shape.
	f := goldenFile(t)
	f.Meta.Data.Shape = []int{1, 1, 2, 1}
	if err := f.Validate(); err != nil {
		t.Error(err)
	}
}
