package weights

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/flowmatch/flowmatch/sampler"
)

// Format identification, written into every file's __metadata__.
const (
	FormatName    = "flowmatch" // the value of "format"
	FormatVersion = 1           // the value of "format_version", as a decimal string
)

// The keys of __metadata__ that this package reads and writes. Other keys are kept in
// [Meta.Extra].
const (
	KeyFormat     = "format"
	KeyVersion    = "format_version"
	KeyModel      = "model"
	KeyPath       = "path"
	KeyData       = "data"
	KeyProvenance = "provenance"
)

func knownKey(k string) bool {
	switch k {
	case KeyFormat, KeyVersion, KeyModel, KeyPath, KeyData, KeyProvenance:
		return true
	}
	return false
}

// Meta is everything a file says about its model besides the tensors.
type Meta struct {
	Model      sampler.MLPSpec // the network's shape (__metadata__ "model")
	Path       PathInfo        // the probability path and trained time range ("path")
	Data       DataInfo        // what the model generates ("data")
	Provenance Provenance      // how it was made ("provenance"); informational only
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
	// Normalization, if not nil, maps the network's space to data space.
	Normalization *Normalization `json:"normalization,omitempty"`
}

// Normalization is a per-coordinate affine map from the space the network was
// trained in to data space: x_data[j] = Mean[j] + Std[j]·x_net[j].
type Normalization struct {
	Mean []float64 `json:"mean"`
	Std  []float64 `json:"std"` // each > 0
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
// inverse of ToData.
func (d DataInfo) FromData(x []float32) {
	nz := d.Normalization
	if nz == nil || d.Dim < 1 {
		return
	}
	for i := range x {
		j := i % d.Dim
		x[i] = float32((float64(x[i]) - nz.Mean[j]) / nz.Std[j])
	}
}

// LogDetToData is log |det| of the Jacobian of ToData, Σ_j log Std[j] (0 without a
// normalization): a density in data space is the network space's one minus this, in logs.
func (d DataInfo) LogDetToData() float64 {
	s := 0.0
	if nz := d.Normalization; nz != nil {
		for _, v := range nz.Std {
			s += math.Log(v)
		}
	}
	return s
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

// check validates m and returns the path it describes. It is shared by the decoder
// and the encoder, so that whatever Encode writes, Decode reads back.
func (m *Meta) check() (sampler.Path, error) {
	if err := m.Model.Validate(); err != nil {
		return nil, errf("metadata %q: %v", KeyModel, err)
	}
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
	if d.Dim != m.Model.Dim {
		return nil, errf("metadata %q: dim %d but the model's dim is %d", KeyData, d.Dim, m.Model.Dim)
	}
	if nz := d.Normalization; nz != nil {
		if len(nz.Mean) != d.Dim || len(nz.Std) != d.Dim {
			return nil, errf("metadata %q: normalization has %d means and %d stds, want %d of each",
				KeyData, len(nz.Mean), len(nz.Std), d.Dim)
		}
		for j := range nz.Mean {
			if !finite(nz.Mean[j], nz.Std[j]) || nz.Std[j] <= 0 {
				return nil, errf("metadata %q: normalization coordinate %d: mean %g, std %g (want finite, std > 0)",
					KeyData, j, nz.Mean[j], nz.Std[j])
			}
		}
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

func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// marshal returns the __metadata__ map of m.
func (m *Meta) marshal() (map[string]string, error) {
	out := map[string]string{
		KeyFormat:  FormatName,
		KeyVersion: fmt.Sprint(FormatVersion),
	}
	for k, v := range m.Extra {
		out[k] = v
	}
	for _, kv := range []struct {
		key string
		v   any
	}{{KeyModel, m.Model}, {KeyPath, m.Path}, {KeyData, m.Data}, {KeyProvenance, m.Provenance}} {
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
// a reader that ignored it would compute something else. Provenance is lenient.
func unmarshalMeta(md map[string]string) (Meta, error) {
	var m Meta
	if md == nil {
		return m, errf("header has no __metadata__: not a flowmatch file")
	}
	if f, ok := md[KeyFormat]; !ok || f != FormatName {
		if !ok {
			return m, errf("__metadata__ has no %q key: not a flowmatch file", KeyFormat)
		}
		return m, errf("__metadata__ %q is %q, want %q: not a flowmatch file", KeyFormat, f, FormatName)
	}
	if v, ok := md[KeyVersion]; !ok || v != fmt.Sprint(FormatVersion) {
		if !ok {
			return m, errf("__metadata__ has no %q key", KeyVersion)
		}
		return m, errf("format version %q not supported (this reader knows version %d)", v, FormatVersion)
	}
	model, ok := md[KeyModel]
	if !ok {
		return m, errf("__metadata__ has no %q key", KeyModel)
	}
	if err := strictJSON(model, &m.Model); err != nil {
		return m, errf("metadata %q: %v", KeyModel, err)
	}
	path, ok := md[KeyPath]
	if !ok {
		return m, errf("__metadata__ has no %q key", KeyPath)
	}
	m.Path.TMax = math.NaN() // to tell "absent" from 0
	if err := strictJSON(path, &m.Path); err != nil {
		return m, errf("metadata %q: %v", KeyPath, err)
	}
	if math.IsNaN(m.Path.TMax) {
		// Absent: the whole range the path allows.
		m.Path.TMax = 1
		if p, err := sampler.NewPath(m.Path.PathSpec); err == nil {
			m.Path.TMax = p.TMax()
		}
	}
	m.Data.Dim = m.Model.Dim
	if data, ok := md[KeyData]; ok {
		m.Data.Dim = 0
		if err := strictJSON(data, &m.Data); err != nil {
			return m, errf("metadata %q: %v", KeyData, err)
		}
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
