package explorer

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// Couplings of noise and data in training, named as the weights package names them
// ([weights.Couplings]): I-CFM pairs them independently; OT-CFM pairs each minibatch by
// optimal transport, which straightens the paths and so needs fewer steps to sample.
const (
	CouplingIndependent = weights.CouplingIndependent
	CouplingOT          = weights.CouplingOT
)

// Entry is one model in the manifest.
type Entry struct {
	Name    string `json:"name"`    // unique, e.g. "moons-ot"
	Dataset string `json:"dataset"` // e.g. "moons"
	Path    string `json:"path"`    // "ot", "vp" or "ve"
	File    string `json:"file"`    // relative to the manifest, e.g. "moons-ot.safetensors"
	Bytes   int64  `json:"bytes,omitempty"`
	// Coupling is how the model was trained: "independent" (or empty) or "ot".
	Coupling string `json:"coupling,omitempty"`
	// Kind is "" for a model of 2-D points and KindImage for an image model, which only
	// the Images mode shows; Shape ([channels, height, width]) and Classes (the class
	// names, in label order) describe an image model's images.
	Kind    string   `json:"kind,omitempty"`
	Shape   []int    `json:"shape,omitempty"`
	Classes []string `json:"classes,omitempty"`
}

// CouplingName is the entry's coupling, "independent" when the manifest leaves it out.
func (e Entry) CouplingName() string {
	if e.Coupling == "" {
		return CouplingIndependent
	}
	return e.Coupling
}

// Manifest lists the models a site ships: models/manifest.json beside the page. The
// browser reads that file; make www writes it (wasm/cmd/manifest) and the desktop
// program reads it or, in a folder without one, builds the same list itself, both with
// [ManifestFromFS].
type Manifest struct {
	Version int     `json:"version"`
	Default string  `json:"default,omitempty"` // the model shown first
	Models  []Entry `json:"models"`
}

// ParseManifest decodes and checks a manifest.
func ParseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("explorer: models/manifest.json is not valid JSON: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Validate checks that names are unique, paths known and files relative.
func (m *Manifest) Validate() error {
	if m.Version != 1 {
		return fmt.Errorf("explorer: manifest version %d, want 1", m.Version)
	}
	if len(m.Models) == 0 {
		return fmt.Errorf("explorer: the manifest lists no models")
	}
	seen := map[string]bool{}
	pair := map[string]bool{}
	for i, e := range m.Models {
		if e.Name == "" || e.Dataset == "" || e.File == "" {
			return fmt.Errorf("explorer: manifest model %d: name, dataset and file are required", i)
		}
		if seen[e.Name] {
			return fmt.Errorf("explorer: manifest lists model %q twice", e.Name)
		}
		if err := e.check(); err != nil {
			return fmt.Errorf("explorer: manifest model %q: %w", e.Name, err)
		}
		if pair[e.key()] {
			return fmt.Errorf("explorer: manifest lists two models for dataset %q on path %q with the %s coupling", e.Dataset, e.Path, e.CouplingName())
		}
		seen[e.Name] = true
		pair[e.key()] = true
	}
	if m.Default != "" && !seen[m.Default] {
		return fmt.Errorf("explorer: the manifest's default model %q is not in its list", m.Default)
	}
	return nil
}

// check is what Validate asks of one entry on its own: a known coupling and path and a
// relative file.
func (e Entry) check() error {
	switch {
	case e.Kind != "" && e.Kind != KindImage:
		return fmt.Errorf("kind %q, want none (2-D points) or %q", e.Kind, KindImage)
	case e.IsImage() && (len(e.Shape) != 3 || e.Shape[0] < 1 || e.Shape[1] < 1 || e.Shape[2] < 1):
		return fmt.Errorf("an image model's shape %v, want [channels, height, width]", e.Shape)
	}
	if e.Coupling != "" && weights.CheckCoupling(e.Coupling) != nil {
		return fmt.Errorf("coupling %q, want %s", e.Coupling, strings.Join(weights.Couplings(), " or "))
	}
	if strings.HasPrefix(e.File, "/") || strings.Contains(e.File, "..") || strings.Contains(e.File, "://") {
		return fmt.Errorf("file %q must be a relative path inside models/", e.File)
	}
	_, err := sampler.NewPath(sampler.PathSpec{Name: e.Path})
	return err
}

// key is what at most one entry of a manifest may have: its dataset, path and coupling.
func (e Entry) key() string { return e.Dataset + "/" + e.Path + "/" + e.CouplingName() }

// Find returns the entry for a dataset and path: the independent-coupling model if
// there is one, else the first.
func (m *Manifest) Find(dataset, pathName string) (Entry, bool) {
	if e, ok := m.FindCoupling(dataset, pathName, CouplingIndependent); ok {
		return e, true
	}
	for _, e := range m.Models {
		if !e.IsImage() && e.Dataset == dataset && e.Path == pathName {
			return e, true
		}
	}
	return Entry{}, false
}

// FindCoupling returns the entry for a dataset, path and coupling.
func (m *Manifest) FindCoupling(dataset, pathName, coupling string) (Entry, bool) {
	for _, e := range m.Models {
		if !e.IsImage() && e.Dataset == dataset && e.Path == pathName && e.CouplingName() == coupling {
			return e, true
		}
	}
	return Entry{}, false
}

// Couplings lists the couplings with a model for dataset on path: independent first.
func (m *Manifest) Couplings(dataset, pathName string) []string {
	var out []string
	for _, c := range weights.Couplings() {
		if _, ok := m.FindCoupling(dataset, pathName, c); ok {
			out = append(out, c)
		}
	}
	return out
}

// Datasets lists the datasets with at least one 2-D model, in manifest order.
func (m *Manifest) Datasets() []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range m.Models {
		if !seen[e.Dataset] && !e.IsImage() {
			seen[e.Dataset] = true
			out = append(out, e.Dataset)
		}
	}
	return out
}

// Paths lists the paths that have a model for dataset, in the order ot, vp, ve.
func (m *Manifest) Paths(dataset string) []string {
	var out []string
	for _, p := range sampler.PathNames() {
		if _, ok := m.Find(dataset, p); ok {
			out = append(out, p)
		}
	}
	return out
}

// DefaultEntry is the manifest's default model, or its first 2-D one (its first when
// it has only image models).
func (m *Manifest) DefaultEntry() Entry {
	for _, e := range m.Models {
		if e.Name == m.Default && !e.IsImage() {
			return e
		}
	}
	for _, e := range m.Models {
		if !e.IsImage() {
			return e
		}
	}
	return m.Models[0]
}

// Building a manifest from a folder of model files.

// DefaultModel is the model a built manifest shows first when its folder has it and
// the builder is given no other ([BuildManifest]); without it, the first listed (by
// file name) is shown first. make www and the desktop program both leave the choice to
// this rule (make www WWW_DEFAULT_MODEL=NAME picks another).
const DefaultModel = "moons-ot"

// ModelExt is the file name ending of model files: a folder's models are its
// *.safetensors files.
const ModelExt = ".safetensors"

// otcfmSuffix ends the name of a model trained with the OT coupling:
// DATASET-PATH-otcfm.safetensors.
const otcfmSuffix = "-otcfm"

// ManifestFile is what the manifest builder knows of one model file.
type ManifestFile struct {
	File  string        // its path relative to the manifest, e.g. "moons-ot.safetensors"
	Bytes int64         // its size; 0 leaves it out of the manifest
	Meta  *weights.Meta // its metadata; nil when not read, and then its name alone says
}

// SkippedFile is a model file that the manifest builder left out, and why.
type SkippedFile struct {
	File string
	Err  error
	// Invalid is set when the file could not be read or is not a valid model file (a
	// corrupt file, rather than a model the explorer cannot show).
	Invalid bool
}

func (s SkippedFile) String() string { return s.File + ": " + s.Err.Error() }

// BuildManifest is the manifest builder: it lists the model files (sorted by file
// name) that the explorer can show, with the default def, or [DefaultModel] for "", as
// the model shown first when it is among them.
//
// Each file's dataset, path and coupling come from its metadata: the data's name, the
// path's, and the coupling its provenance records. What the metadata does not say comes
// from the name convention DATASET-PATH.safetensors, DATASET-PATH-otcfm.safetensors for
// a model trained with the OT coupling: the dataset where the data have no name, the
// coupling where the provenance has none, and everything for a file without metadata.
// The model's name is the file's name without its ending.
//
// Left out, and listed in the second result: models whose points are not 2-D (the
// explorer draws the plane), files whose name and metadata do not say a dataset and a
// known path, unknown couplings, and a second model for the same dataset, path and
// coupling (the first by file name stays).
func BuildManifest(files []ManifestFile, def string) (*Manifest, []SkippedFile) {
	if def == "" {
		def = DefaultModel
	}
	files = slices.Clone(files)
	slices.SortFunc(files, func(a, b ManifestFile) int { return strings.Compare(a.File, b.File) })
	m := &Manifest{Version: 1}
	var skipped []SkippedFile
	names := map[string]string{}
	keys := map[string]string{}
	for _, f := range files {
		e, err := manifestEntry(f)
		switch {
		case err != nil:
		case names[e.Name] != "":
			err = fmt.Errorf("%s has the same name, %s", names[e.Name], e.Name)
		case keys[e.key()] != "":
			err = fmt.Errorf("%s is already the %s model on path %s with the %s coupling", keys[e.key()], e.Dataset, e.Path, e.CouplingName())
		}
		if err != nil {
			skipped = append(skipped, SkippedFile{File: f.File, Err: err})
			continue
		}
		names[e.Name], keys[e.key()] = f.File, f.File
		m.Models = append(m.Models, e)
		if e.Name == def {
			m.Default = def
		}
	}
	return m, skipped
}

// manifestEntry is one file's entry: from its metadata, and what that does not say from
// its name.
func manifestEntry(f ManifestFile) (Entry, error) {
	base := path.Base(f.File)
	stem := strings.TrimSuffix(base, path.Ext(base))
	core, otcfm := strings.CutSuffix(stem, otcfmSuffix)
	e := Entry{Name: stem, File: f.File, Bytes: f.Bytes}
	if otcfm {
		e.Coupling = CouplingOT
	}
	if f.Meta == nil {
		// The name alone: DATASET-PATH.
		if i := strings.LastIndex(core, "-"); i > 0 {
			e.Dataset, e.Path = core[:i], core[i+1:]
		}
	} else {
		md := f.Meta
		if md.Data.IsImage() || md.Arch == weights.ArchUNet {
			return imageEntry(e, core, md)
		}
		if md.Data.Dim != PlotDim {
			return e, fmt.Errorf("dimension %d (the explorer shows 2-D models)", md.Data.Dim)
		}
		e.Path, e.Dataset = md.Path.Name, md.Data.Name
		if e.Dataset == "" {
			e.Dataset = strings.TrimSuffix(core, "-"+e.Path)
		}
		if c := md.Provenance.Coupling; c != "" {
			e.Coupling = c
		}
	}
	if e.Coupling == CouplingIndependent {
		e.Coupling = "" // the manifest's default
	}
	if e.Dataset == "" || e.Path == "" {
		return e, fmt.Errorf("neither its metadata nor its name (DATASET-PATH%s) says its dataset and path", ModelExt)
	}
	return e, e.check()
}

// ManifestFromFS builds the manifest of the model files (*.safetensors) at the top of
// fsys, reading each file's metadata: [BuildManifest] with def. Files that cannot be
// read or are not valid model files are left out as well, marked Invalid.
func ManifestFromFS(fsys fs.FS, def string) (*Manifest, []SkippedFile) {
	names, _ := fs.Glob(fsys, "*"+ModelExt) // the pattern is well formed
	var files []ManifestFile
	var skipped []SkippedFile
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		var f *weights.File
		if err == nil {
			f, err = weights.DecodeBytes(b)
		}
		if err != nil {
			skipped = append(skipped, SkippedFile{File: name, Err: err, Invalid: true})
			continue
		}
		files = append(files, ManifestFile{File: name, Bytes: int64(len(b)), Meta: &f.Meta})
	}
	m, more := BuildManifest(files, def)
	return m, append(skipped, more...)
}

// ManifestFromFiles builds a manifest from file names alone, without reading the
// files: [BuildManifest] with the name convention DATASET-PATH.EXT (e.g.
// "moons-vp.safetensors"), or DATASET-PATH-otcfm.EXT for a model trained with the OT
// coupling. Folders are dropped from the names (the manifest sits beside the files);
// names that do not fit are skipped.
func ManifestFromFiles(files []string, def string) *Manifest {
	mf := make([]ManifestFile, len(files))
	for i, f := range files {
		mf[i] = ManifestFile{File: path.Base(f)}
	}
	m, _ := BuildManifest(mf, def)
	return m
}
