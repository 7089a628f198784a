package explorer

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// meta is the metadata of a d-dimensional model of dataset ds on path p, trained with
// coupling c ("" if not recorded).
func meta(ds, p, c string, d int) *weights.Meta {
	return &weights.Meta{Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: p}},
		Data: weights.DataInfo{Name: ds, Dim: d}, Provenance: weights.Provenance{Coupling: c}}
}

// modelFile encodes a small d-dimensional network with meta's path, data and provenance.
func modelFile(t *testing.T, md *weights.Meta) []byte {
	t.Helper()
	spec := sampler.MLPSpec{Dim: md.Data.Dim, Hidden: []int{4}}
	var ws, bs [][]float32
	for _, sh := range spec.LayerShapes() {
		ws, bs = append(ws, make([]float32, sh[0]*sh[1])), append(bs, make([]float32, sh[0]))
	}
	m := *md
	m.Model = spec
	f, err := weights.NewFile(m, ws, bs)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := weights.Encode(&buf, f, weights.F16); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func names(m *Manifest) string {
	var out []string
	for _, e := range m.Models {
		out = append(out, e.Name)
	}
	return strings.Join(out, ",")
}

func skippedText(s []SkippedFile) string {
	var out []string
	for _, f := range s {
		out = append(out, f.String())
	}
	return strings.Join(out, "\n")
}

// The builder takes each file's dataset, path and coupling from its metadata, and
// what that leaves out from the name; it lists 2-D models only, one per dataset, path
// and coupling, and marks the default.
func TestBuildManifest(t *testing.T) {
	files := []ManifestFile{
		{File: "moons-vp.safetensors", Bytes: 10, Meta: meta("moons", "vp", "independent", 2)},
		{File: "moons-ot.safetensors", Bytes: 11, Meta: meta("moons", "ot", "", 2)},
		// The provenance says OT-CFM, whatever the name.
		{File: "moons-ot-2.safetensors", Bytes: 12, Meta: meta("moons", "ot", "ot", 2)},
		// No dataset in the metadata: the name says, and its -otcfm the coupling.
		{File: "blob-ve-otcfm.safetensors", Meta: meta("", "ve", "", 2)},
		// No metadata at all: the name alone.
		{File: "rings-ot.safetensors"},
		{File: "mnist-ot.safetensors", Meta: meta("mnist", "ot", "", 784)},
		{File: "moons-ot-3.safetensors", Meta: meta("moons", "ot", "ot", 2)},
		{File: "odd-ot.safetensors", Meta: meta("odd", "ot", "sinkhorn", 2)},
		{File: "readme.safetensors"},
		{File: "moons-xx.safetensors"},
	}
	m, skipped := BuildManifest(files, "")
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	// Sorted by file name, as a folder lists them ("-" sorts before ".").
	want := []Entry{
		{Name: "blob-ve-otcfm", Dataset: "blob", Path: "ve", File: "blob-ve-otcfm.safetensors", Coupling: CouplingOT},
		{Name: "moons-ot-2", Dataset: "moons", Path: "ot", File: "moons-ot-2.safetensors", Bytes: 12, Coupling: CouplingOT},
		{Name: "moons-ot", Dataset: "moons", Path: "ot", File: "moons-ot.safetensors", Bytes: 11},
		{Name: "moons-vp", Dataset: "moons", Path: "vp", File: "moons-vp.safetensors", Bytes: 10},
		{Name: "rings-ot", Dataset: "rings", Path: "ot", File: "rings-ot.safetensors"},
	}
	if !reflect.DeepEqual(m.Models, want) {
		t.Errorf("models\n%+v\nwant\n%+v", m.Models, want)
	}
	if m.Default != DefaultModel || DefaultModel != "moons-ot" {
		t.Errorf("default %q", m.Default)
	}
	got := skippedText(skipped)
	for _, w := range []string{
		"mnist-ot.safetensors: dimension 784",
		"moons-ot-3.safetensors: moons-ot-2.safetensors is already the moons model on path ot with the ot coupling",
		`odd-ot.safetensors: coupling "sinkhorn"`,
		"readme.safetensors: neither its metadata nor its name",
		`moons-xx.safetensors: sampler: unknown path "xx"`,
	} {
		if !strings.Contains(got, w) {
			t.Errorf("skipped:\n%s\nwant a line with %q", got, w)
		}
	}
	if len(skipped) != 5 || slices.ContainsFunc(skipped, func(s SkippedFile) bool { return s.Invalid }) {
		t.Errorf("skipped: %+v", skipped)
	}
	// Another default, one that is missing (the first listed is shown), the input
	// left as it was.
	if m, _ := BuildManifest(files, "rings-ot"); m.Default != "rings-ot" {
		t.Errorf("default %q", m.Default)
	}
	if m, _ := BuildManifest(files, "gone"); m.Default != "" || m.DefaultEntry().Name != "blob-ve-otcfm" {
		t.Errorf("default %q", m.Default)
	}
	if files[0].File != "moons-vp.safetensors" {
		t.Error("BuildManifest sorted its argument")
	}
	if m, skipped := BuildManifest(nil, ""); len(m.Models) != 0 || len(skipped) != 0 || m.Version != 1 {
		t.Errorf("no files: %+v %v", m, skipped)
	}
}

// Files named by the convention give the same manifest from their names alone as from
// their metadata.
func TestManifestNamesAgreeWithMetadata(t *testing.T) {
	fsys := fstest.MapFS{}
	var plain []string
	for _, c := range []struct{ ds, p, c string }{
		{"moons", "ot", ""}, {"moons", "ot", "ot"}, {"moons", "vp", ""}, {"8gaussians", "ve", ""}, {"2spirals", "ot", "ot"},
	} {
		name := c.ds + "-" + c.p
		if c.c == CouplingOT {
			name += "-otcfm"
		}
		name += ModelExt
		fsys[name] = &fstest.MapFile{Data: modelFile(t, meta(c.ds, c.p, c.c, 2))}
		plain = append(plain, "w/"+name)
	}
	fromMeta, skipped := ManifestFromFS(fsys, "")
	if len(skipped) != 0 {
		t.Fatalf("skipped %v", skipped)
	}
	fromNames := ManifestFromFiles(plain, "")
	for i := range fromMeta.Models {
		if fromMeta.Models[i].Bytes != int64(len(fsys[fromMeta.Models[i].File].Data)) {
			t.Errorf("%s: %d bytes", fromMeta.Models[i].Name, fromMeta.Models[i].Bytes)
		}
		fromMeta.Models[i].Bytes = 0
	}
	if !reflect.DeepEqual(fromMeta.Models, fromNames.Models) || fromMeta.Default != "moons-ot" || fromNames.Default != "moons-ot" {
		t.Errorf("from metadata\n%+v\nfrom names\n%+v", fromMeta, fromNames)
	}
	if names(fromMeta) != "2spirals-ot-otcfm,8gaussians-ve,moons-ot-otcfm,moons-ot,moons-vp" {
		t.Errorf("order %s", names(fromMeta))
	}
}

// A folder: its *.safetensors files, read and decoded; corrupt ones are left out and
// marked, other files ignored.
func TestManifestFromFS(t *testing.T) {
	fsys := fstest.MapFS{
		"moons-ot.safetensors":     {Data: modelFile(t, meta("moons", "ot", "", 2))},
		"cube-ot.safetensors":      {Data: modelFile(t, meta("cube", "ot", "", 3))},
		"bad-ot.safetensors":       {Data: []byte("garbage")},
		"manifest.json":            {Data: []byte("{}")},
		"sub/rings-ot.safetensors": {Data: modelFile(t, meta("rings", "ot", "", 2))},
	}
	m, skipped := ManifestFromFS(fsys, "")
	if names(m) != "moons-ot" || m.Default != "moons-ot" || m.Models[0].Bytes == 0 {
		t.Errorf("manifest %+v", m)
	}
	if len(skipped) != 2 || skipped[0].File != "bad-ot.safetensors" || !skipped[0].Invalid ||
		skipped[1].File != "cube-ot.safetensors" || skipped[1].Invalid || !strings.Contains(skipped[1].Err.Error(), "dimension 3") {
		t.Errorf("skipped %+v", skipped)
	}
	if m, skipped := ManifestFromFS(fstest.MapFS{}, ""); len(m.Models) != 0 || len(skipped) != 0 {
		t.Errorf("an empty folder: %+v %v", m, skipped)
	}
}

// The memory a run would keep is reckoned in the model's dimension: 2 until a model is
// loaded, then the model's.
func TestMemoryUsesModelDim(t *testing.T) {
	release := make(chan struct{})
	cfg := Config{
		Load: func(e Entry) (*Model, error) {
			<-release
			m := gaussND(t, e.Path, 5)
			m.Name = e.Name
			return m, nil
		},
		Data: gaussSample, Now: newFakeClock().Now,
	}
	s := DefaultSettings()
	s.Solver = sampler.Euler
	a := New(cfg, testManifest(), s, nil)
	// 20,000 particles × 1,001 frames of Euler: 160 MB in 2-D, 400 MB in 5-D.
	if a.pointDim(a.Settings()) != PlotDim {
		t.Errorf("before a model is loaded, dimension %d", a.pointDim(a.Settings()))
	}
	if err := a.Set("particles", "20000"); err != nil {
		t.Fatal(err)
	}
	if err := a.Set("nfe", "1000"); err != nil {
		t.Errorf("2-D estimate: %v", err)
	}
	a.Set("nfe", "20")
	close(release)
	a.drainLoads(true)
	if d := a.pointDim(a.Settings()); d != 5 {
		t.Fatalf("the loaded model's dimension is %d", d)
	}
	if err := a.Set("nfe", "1000"); err == nil || !strings.Contains(err.Error(), "MB of trajectories") {
		t.Errorf("5-D estimate: %v", err)
	}
}
