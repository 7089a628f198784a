package weights

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/flowmatch/flowmatch/sampler"
)

// Format identification, written into every file's __metadata__.
const (
	FormatName = "flowmatch" // the value of "format"
	// FormatVersion is the "format_version" (as a decimal string) of a file whose
	// network is an MLP and whose data has no shape or classes: every shipped model, and
	// what every reader since the first reads. Other files are LatestFormatVersion; see
	// [Meta.Version].
	FormatVersion = 1
	// LatestFormatVersion is the newest format version, which this package reads and
	// writes besides versions 1 and 2. Version 2 adds network kinds other than "mlp" and
	// the data's shape and classes; version 3 a user's own data (DataInfo.Source) and a
	// constant coordinate (a normalization std of 0); version 4 images' pixel range
	// (DataInfo.Pixels).
	LatestFormatVersion = 4
)

// The keys of __metadata__ that this package reads and writes. Other keys are kept in
// [Meta.Extra].
const (
	KeyFormat     = "format"
	KeyVersion    = "format_version"
	KeyArch       = "arch"
	KeyModel      = "model"
	KeyPath       = "path"
	KeyData       = "data"
	KeyProvenance = "provenance"
)

func knownKey(k string) bool {
	switch k {
	case KeyFormat, KeyVersion, KeyArch, KeyModel, KeyPath, KeyData, KeyProvenance:
		return true
	}
	return false
}

// Meta is everything a file says about its model besides the tensors.
type Meta struct {
	// Arch is the kind of network (__metadata__ "arch"): ArchMLP, the only kind so far
	// (see [Archs]). Empty means Net's kind, or ArchMLP when Net is nil; decoding and
	// [NewFile] set it.
	Arch string
	// Model is an MLP's shape (__metadata__ "model", when Arch is ArchMLP); zero for
	// another kind.
	Model sampler.MLPSpec
	// Net is the shape of a network of another kind than an MLP ("model"); nil for an
	// MLP. [Meta.Spec] gives the network's spec, whatever its kind.
	Net        Spec
	Path       PathInfo   // the probability path and trained time range ("path")
	Data       DataInfo   // what the model generates ("data")
	Provenance Provenance // how it was made ("provenance"); informational only
	// Extra holds any other __metadata__ entries, kept as they are. Its keys must not
	// be one of the Key constants.
	Extra map[string]string
}

// PathInfo is the probability path the model was trained on and the time range it
// was trained and is sampled on. Its JSON form is the path spec's fields with
// "t_min" and "t_max" beside them.
type PathInfo struct {
	sampler.PathSpec
	// TMin and TMax bound the training times; sampling integrates from TMin to TMax.
	// 0 ≤ TMin < TMax ≤ the path's TMax (1 for OT, 1−eps for VP and VE). A zero TMax
	// in a [NewFile] argument means the path's TMax.
	TMin float64 `json:"t_min"`
	TMax float64 `json:"t_max"`
}

// DataInfo says what the model generates.
type DataInfo struct {
	// Name is the dataset the model was trained on (e.g. "moons"), as the dataset
	// package names it; empty if unknown.
	Name string `json:"name"`
	// Dim is the data dimension; it equals the model's Dim.
	Dim int `json:"dim"`
	// Shape, if not empty, is how a point's Dim values are laid out, row-major: [1, 28,
	// 28] for a 28×28 grey image (channels, height, width). Its product is Dim. It says
	// how to show a sample and changes nothing the model computes.
	Shape []int `json:"shape,omitempty"`
	// Normalization, if not nil, maps the network's space to data space.
	Normalization *Normalization `json:"normalization,omitempty"`
	// Source, if not zero, says the model was trained on a user's own points, not a
	// built-in dataset (version 3). Name is then the file's name (or another name that
	// no built-in dataset has).
	Source Source `json:"source,omitzero"`
	// Classes, if not empty, names the data's classes, in the order of their labels
	// 0, 1, …: distinct, non-empty, at most MaxClasses. A class-conditional network
	// (arch "unet") takes these labels; an MLP does not see them.
	Classes []string `json:"classes,omitempty"`
	// Pixels, if not empty, says the data are images, and how the network's values map
	// to intensities: [black, white], the network-space values of intensity 0 and 1
	// ([-1, 1] for Fashion-MNIST scaled as p/127.5 − 1). Shape is then set (version 4).
	Pixels []float64 `json:"pixels,omitempty"`
}

// IsImage reports whether the data are images (Pixels is set).
func (d DataInfo) IsImage() bool { return len(d.Pixels) == 2 }

// ToPixels maps network-space values x to intensities in [0, 1], clamped, in place;
// it does nothing unless the data are images.
func (d DataInfo) ToPixels(x []float32) {
	if !d.IsImage() {
		return
	}
	lo, scale := d.Pixels[0], 1/(d.Pixels[1]-d.Pixels[0])
	for i, v := range x {
		x[i] = float32(min(1, max(0, (float64(v)-lo)*scale)))
	}
}

// Limits on DataInfo.
const (
	MaxShapeRank = 8       // the most axes a data shape has
	MaxClasses   = 1 << 16 // the most classes a DataInfo names
)

// Source describes a user's own data, read from a file (or drawn in the browser), and
// the rows of it that training held out, so that evaluation scores the model on rows
// it never saw: package dataset recomputes them from Holdout's rule and seed
// (dataset.Holdout), and a file's SHA-256 tells whether it is the same data.
type Source struct {
	// File is the file's base name (no folders: files get published), or empty for
	// data that came from no file.
	File string `json:"file,omitempty"`
	// Rows is the number of points in the data, held-out ones included (≥ 1).
	Rows int `json:"rows"`
	// SHA256 is the SHA-256 of the file's bytes in lower-case hex, or empty.
	SHA256  string  `json:"sha256,omitempty"`
	Holdout Holdout `json:"holdout"`
}

// Holdout says which rows of a Source were kept out of training: the rule (a name
// that package dataset gives it, dataset.HoldoutRule) applied with Seed to Source.Rows
// rows, holding out Rows of them. A zero Holdout held out nothing.
type Holdout struct {
	Rule string `json:"rule,omitempty"`
	Seed uint64 `json:"seed"`
	Rows int    `json:"rows"` // 0 ≤ Rows < Source.Rows
}

// Normalization is a per-coordinate affine map from the space the network was
// trained in to data space: x_data[j] = Mean[j] + Std[j]·x_net[j].
type Normalization struct {
	Mean []float64 `json:"mean"`
	// Std is each coordinate's scale: > 0, or 0 for a coordinate that is constant in
	// the data (version 3), which ToData sets to Mean whatever the network gives.
	Std []float64 `json:"std"`
}

// ToData maps points x (n×Dim, row-major) from network space to data space in place.
// It does nothing without a normalization.
func (d DataInfo) ToData(x []float32) {
	nz := d.Normalization
	if nz == nil || d.Dim < 1 {
		return
	}
	for i := range x {
		j := i % d.Dim
		x[i] = float32(nz.Mean[j] + nz.Std[j]*float64(x[i]))
	}
}

// FromData maps points x (n×Dim) from data space to network space in place, the
// inverse of ToData. A constant coordinate (Std 0) maps to 0, where the network was
// trained to keep it.
func (d DataInfo) FromData(x []float32) {
	nz := d.Normalization
	if nz == nil || d.Dim < 1 {
		return
	}
	for i := range x {
		j := i % d.Dim
		if nz.Std[j] == 0 {
			x[i] = 0
			continue
		}
		x[i] = float32((float64(x[i]) - nz.Mean[j]) / nz.Std[j])
	}
}

// LogDetToData is log |det| of the Jacobian of ToData, Σ_j log Std[j] (0 without a
// normalization): a density in data space is the network space's one minus this, in
// logs. A constant coordinate (Std 0) has no density in data space; its term is left
// out, so that a data-space density is the network's over that coordinate (at 0) and
// the other coordinates' in data units.
func (d DataInfo) LogDetToData() float64 {
	s := 0.0
	if nz := d.Normalization; nz != nil {
		for _, v := range nz.Std {
			if v > 0 {
				s += math.Log(v)
			}
		}
	}
	return s
}

// ConstantCoords returns the coordinates (from 0) that the normalization keeps
// constant (Std 0), if any.
func (d DataInfo) ConstantCoords() []int {
	var c []int
	if nz := d.Normalization; nz != nil {
		for j, v := range nz.Std {
			if v == 0 {
				c = append(c, j)
			}
		}
	}
	return c
}

// Provenance records how a model was made. Readers show it but never act on it, so
// its fields are all optional and fields a reader does not know are ignored.
type Provenance struct {
	Command   string  `json:"command,omitempty"`    // the exact command line that made the file
	Steps     int     `json:"steps"`                // training steps taken
	FinalLoss float64 `json:"final_loss,omitempty"` // the CFM loss at the end (smoothed)
	Seed      uint64  `json:"seed"`
	Batch     int     `json:"batch,omitempty"`
	LR        float64 `json:"lr,omitempty"`        // peak learning rate
	EMA       float64 `json:"ema,omitempty"`       // EMA decay of the exported weights, 0 if none
	Coupling  string  `json:"coupling,omitempty"`  // "independent" (I-CFM) or "ot" (OT-CFM)
	Optimizer string  `json:"optimizer,omitempty"` // e.g. "adamw"
	Device    string  `json:"device,omitempty"`    // "cpu", "cuda", ...
	Seconds   float64 `json:"train_seconds,omitempty"`
	LibTorch  string  `json:"libtorch,omitempty"` // libtorch version
	Gotch     string  `json:"gotch,omitempty"`    // gotch version
	Go        string  `json:"go,omitempty"`       // Go version
	Date      string  `json:"date,omitempty"`     // when training ended, RFC 3339
	// Notes holds anything else worth recording, as strings.
	Notes map[string]string `json:"notes,omitempty"`
}

// check validates m and returns the path and network spec it describes. It is shared
// by the decoder and the encoder, so that whatever Encode writes, Decode reads back.
func (m *Meta) check() (sampler.Path, Spec, error) {
	spec, err := m.Spec()
	if err != nil {
		return nil, nil, err
	}
	if err := spec.Validate(); err != nil {
		return nil, nil, errf("metadata %q: %v", KeyModel, err)
	}
	path, err := m.checkRest(spec.Dim())
	if err != nil {
		return nil, nil, err
	}
	return path, spec, nil
}

// checkRest validates everything but the network spec, for a network of dimension dim.
func (m *Meta) checkRest(dim int) (sampler.Path, error) {
	path, err := sampler.NewPath(m.Path.PathSpec)
	if err != nil {
		return nil, errf("metadata %q: %v", KeyPath, err)
	}
	tmin, tmax := m.Path.TMin, m.Path.TMax
	if !finite(tmin, tmax) || tmin < 0 || tmin >= tmax || tmax > path.TMax() {
		return nil, errf("metadata %q: time range [t_min, t_max] = [%g, %g], want 0 ≤ t_min < t_max ≤ %g (path %q)",
			KeyPath, tmin, tmax, path.TMax(), path.Spec().Name)
	}
	d := m.Data
	if d.Dim != dim {
		return nil, errf("metadata %q: dim %d but the model's dim is %d", KeyData, d.Dim, dim)
	}
	if err := d.checkShape(); err != nil {
		return nil, err
	}
	if err := d.checkPixels(); err != nil {
		return nil, err
	}
	if err := d.checkClasses(); err != nil {
		return nil, err
	}
	if nz := d.Normalization; nz != nil {
		if len(nz.Mean) != d.Dim || len(nz.Std) != d.Dim {
			return nil, errf("metadata %q: normalization has %d means and %d stds, want %d of each",
				KeyData, len(nz.Mean), len(nz.Std), d.Dim)
		}
		for j := range nz.Mean {
			if !finite(nz.Mean[j], nz.Std[j]) || nz.Std[j] < 0 {
				return nil, errf("metadata %q: normalization coordinate %d: mean %g, std %g (want finite, std ≥ 0)",
					KeyData, j, nz.Mean[j], nz.Std[j])
			}
		}
	}
	if err := d.checkSource(); err != nil {
		return nil, err
	}
	p := m.Provenance
	if !finite(p.FinalLoss, p.LR, p.EMA, p.Seconds) {
		return nil, errf("metadata %q: final_loss, lr, ema and train_seconds must be finite (got %g, %g, %g, %g)",
			KeyProvenance, p.FinalLoss, p.LR, p.EMA, p.Seconds)
	}
	for k := range m.Extra {
		if knownKey(k) {
			return nil, errf("metadata Extra key %q is reserved", k)
		}
	}
	return path, nil
}

// checkShape checks that a shape, if any, has positive extents whose product is Dim.
func (d *DataInfo) checkShape() error {
	if len(d.Shape) == 0 {
		return nil
	}
	if len(d.Shape) > MaxShapeRank {
		return errf("metadata %q: shape %v has %d axes, want at most %d", KeyData, d.Shape, len(d.Shape), MaxShapeRank)
	}
	const big = 1 << 40 // beyond any dim
	n := 1              // the product so far, or big when it would be beyond
	for _, s := range d.Shape {
		if s < 1 {
			return errf("metadata %q: shape %v: extent %d, want each at least 1", KeyData, d.Shape, s)
		}
		if n > big/s {
			n = big
		} else {
			n *= s
		}
	}
	switch {
	case n == big:
		return errf("metadata %q: shape %v holds more than dim = %d values", KeyData, d.Shape, d.Dim)
	case n != d.Dim:
		return errf("metadata %q: shape %v holds %d values, but dim is %d", KeyData, d.Shape, n, d.Dim)
	}
	return nil
}

// checkSource checks a user's data's record, if any: a base name, rows, a SHA-256 in
// lower-case hex, and a hold-out that leaves rows to train on.
func (d *DataInfo) checkSource() error {
	src := d.Source
	if src == (Source{}) {
		return nil
	}
	f := src.File
	if f != "" && (f == "." || f == ".." || strings.ContainsAny(f, "/\\\x00") || !utf8.ValidString(f) || len(f) > 255) {
		return errf("metadata %q: source file %q, want a file's base name (no folders)", KeyData, f)
	}
	if src.Rows < 1 {
		return errf("metadata %q: source rows %d, want at least 1", KeyData, src.Rows)
	}
	if h := src.SHA256; h != "" && (len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "") {
		return errf("metadata %q: source sha256 %q, want 64 lower-case hex digits", KeyData, h)
	}
	ho := src.Holdout
	switch {
	case ho.Rows < 0 || ho.Rows >= src.Rows:
		return errf("metadata %q: holdout rows %d of %d, want 0 ≤ holdout < rows", KeyData, ho.Rows, src.Rows)
	case ho.Rows > 0 && ho.Rule == "":
		return errf("metadata %q: holdout of %d rows names no rule", KeyData, ho.Rows)
	}
	return nil
}

// checkPixels checks an image's pixel range, if any: two finite, distinct values,
// and a shape to lay the pixels out in.
func (d *DataInfo) checkPixels() error {
	switch {
	case len(d.Pixels) == 0:
		return nil
	case len(d.Pixels) != 2 || !finite(d.Pixels...) || d.Pixels[0] == d.Pixels[1]:
		return errf("metadata %q: pixels %v, want [black, white]: two distinct finite values", KeyData, d.Pixels)
	case len(d.Shape) == 0:
		return errf("metadata %q: pixels %v without a shape", KeyData, d.Pixels)
	}
	return nil
}

// checkClasses checks that class names, if any, are few enough, non-empty, valid UTF-8
// and distinct.
func (d *DataInfo) checkClasses() error {
	if len(d.Classes) > MaxClasses {
		return errf("metadata %q: %d classes, want at most %d", KeyData, len(d.Classes), MaxClasses)
	}
	seen := make(map[string]int, len(d.Classes))
	for i, c := range d.Classes {
		if c == "" || !utf8.ValidString(c) {
			return errf("metadata %q: class %d is %q, want a non-empty UTF-8 name", KeyData, i, c)
		}
		if j, dup := seen[c]; dup {
			return errf("metadata %q: classes %d and %d are both %q", KeyData, j, i, c)
		}
		seen[c] = i
	}
	return nil
}

// Version is the format version a file with this metadata is written as: 1
// ([FormatVersion]) for an MLP whose data has no shape or classes, so that every
// reader since the first reads it; 2 for anything that needs version 2 (another network
// kind, a data shape, class names); 3 ([LatestFormatVersion]) for a user's own data
// (a Source, a constant coordinate); 4 for images (DataInfo.Pixels). Older readers refuse a newer version as one they
// do not know.
func (m *Meta) Version() int {
	v, _ := m.needs()
	return v
}

// needs returns the version m needs and, when that is above 1, the first thing that
// needs it.
func (m *Meta) needs() (int, string) {
	switch {
	case len(m.Data.Pixels) > 0:
		return 4, fmt.Sprintf("%s \"pixels\"", KeyData)
	case m.Data.Source != (Source{}):
		return 3, fmt.Sprintf("%s \"source\"", KeyData)
	case len(m.Data.ConstantCoords()) > 0:
		return 3, fmt.Sprintf("%s normalization std 0", KeyData)
	case m.arch() != ArchMLP:
		return 2, fmt.Sprintf("%s %q", KeyArch, m.arch())
	case len(m.Data.Shape) > 0:
		return 2, fmt.Sprintf("%s \"shape\"", KeyData)
	case len(m.Data.Classes) > 0:
		return 2, fmt.Sprintf("%s \"classes\"", KeyData)
	case m.arch() == ArchMLP && (m.Model.Activation == "selu" || m.Model.Activation == "gelu"):
		// Readers of version 1 know silu, relu and tanh only.
		return 2, fmt.Sprintf("activation %q", m.Model.Activation)
	}
	return 1, ""
}

func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// marshal returns the __metadata__ map of m, which must be valid (see check): the
// lowest version that describes m, its arch always.
func (m *Meta) marshal() (map[string]string, error) {
	out := map[string]string{
		KeyFormat:  FormatName,
		KeyVersion: strconv.Itoa(m.Version()),
		KeyArch:    m.arch(),
	}
	for k, v := range m.Extra {
		out[k] = v
	}
	for _, kv := range []struct {
		key string
		v   any
	}{{KeyModel, m.modelJSON()}, {KeyPath, m.Path}, {KeyData, m.Data}, {KeyProvenance, m.Provenance}} {
		b, err := json.Marshal(kv.v)
		if err != nil {
			return nil, errf("metadata %q: %v", kv.key, err)
		}
		out[kv.key] = string(b)
	}
	return out, nil
}

// unmarshalMeta reads the __metadata__ map. Fields that change what the model computes
// (model, path, data) are decoded strictly: an unknown field there is an error, since
// a reader that ignored it would compute something else. Provenance is lenient. A
// missing arch means an MLP (version 1 files before arch); the file's format_version
// must be one this reader knows, and at least the version its contents need.
func unmarshalMeta(md map[string]string) (Meta, error) {
	var m Meta
	version, err := formatVersion(md)
	if err != nil {
		return m, err
	}
	spec, err := m.unmarshalModel(md)
	if err != nil {
		return m, err
	}
	if err := m.unmarshalPath(md); err != nil {
		return m, err
	}
	if err := m.unmarshalData(md, spec.Dim()); err != nil {
		return m, err
	}
	if need, what := m.needs(); version < need {
		return m, errf("format version %d, but %s needs version %d", version, what, need)
	}
	if prov, ok := md[KeyProvenance]; ok {
		if err := json.Unmarshal([]byte(prov), &m.Provenance); err != nil {
			return m, errf("metadata %q: %v", KeyProvenance, err)
		}
	}
	for k, v := range md {
		if !knownKey(k) {
			if m.Extra == nil {
				m.Extra = map[string]string{}
			}
			m.Extra[k] = v
		}
	}
	return m, nil
}

// formatVersion checks that md is a flowmatch file and returns its format version.
func formatVersion(md map[string]string) (int, error) {
	if md == nil {
		return 0, errf("header has no __metadata__: not a flowmatch file (a PyTorch state_dict? flowmatch import turns an MLP's into one)")
	}
	if f, ok := md[KeyFormat]; !ok || f != FormatName {
		if !ok {
			return 0, errf("__metadata__ has no %q key: not a flowmatch file", KeyFormat)
		}
		return 0, errf("__metadata__ %q is %q, want %q: not a flowmatch file", KeyFormat, f, FormatName)
	}
	v, ok := md[KeyVersion]
	if !ok {
		return 0, errf("__metadata__ has no %q key", KeyVersion)
	}
	// Exactly the decimal forms written: "04" or "+4" is no version.
	for k := FormatVersion; k <= LatestFormatVersion; k++ {
		if v == strconv.Itoa(k) {
			return k, nil
		}
	}
	return 0, errf("format version %q not supported (this reader knows versions %d to %d)", v, FormatVersion, LatestFormatVersion)
}

// unmarshalModel reads the arch (an MLP when absent) and its spec.
func (m *Meta) unmarshalModel(md map[string]string) (Spec, error) {
	m.Arch = ArchMLP
	if a, ok := md[KeyArch]; ok {
		m.Arch = a
	}
	spec := newSpec(m.Arch)
	if spec == nil {
		return nil, unknownArch(m.Arch)
	}
	model, ok := md[KeyModel]
	if !ok {
		return nil, errf("__metadata__ has no %q key", KeyModel)
	}
	if err := strictJSON(model, spec); err != nil {
		return nil, errf("metadata %q (arch %q): %v", KeyModel, m.Arch, err)
	}
	m.setSpec(spec)
	return spec, nil
}

// unmarshalPath reads the path; an absent t_max is the whole range the path allows.
func (m *Meta) unmarshalPath(md map[string]string) error {
	path, ok := md[KeyPath]
	if !ok {
		return errf("__metadata__ has no %q key", KeyPath)
	}
	m.Path.TMax = math.NaN() // to tell "absent" from 0
	if err := strictJSON(path, &m.Path); err != nil {
		return errf("metadata %q: %v", KeyPath, err)
	}
	if math.IsNaN(m.Path.TMax) {
		m.Path.TMax = 1
		if p, err := sampler.NewPath(m.Path.PathSpec); err == nil {
			m.Path.TMax = p.TMax()
		}
	}
	return nil
}

// unmarshalData reads the data info, if any; without it the data has the model's dim.
func (m *Meta) unmarshalData(md map[string]string, dim int) error {
	m.Data.Dim = dim
	data, ok := md[KeyData]
	if !ok {
		return nil
	}
	m.Data.Dim = 0
	if err := strictJSON(data, &m.Data); err != nil {
		return errf("metadata %q: %v", KeyData, err)
	}
	// An empty list is as good as none, and is written as none.
	if len(m.Data.Shape) == 0 {
		m.Data.Shape = nil
	}
	if len(m.Data.Classes) == 0 {
		m.Data.Classes = nil
	}
	return nil
}

// strictJSON decodes s, one JSON value with no unknown fields, into v.
func strictJSON(s string, v any) error {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}
