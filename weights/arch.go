package weights

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"

	"github.com/flowmatch/flowmatch/sampler"
)

// Network kinds. A file's __metadata__ "arch" names the kind of network it holds, and
// its "model" is that kind's spec. Every kind is a [Spec]; [newSpec] is the one list of
// them.
//
// Adding a kind (as "unet" was, in unet.go) takes three things, all in this package: a
// constant for its arch; a type implementing Spec, whose JSON form is the "model"
// metadata and which lists the kind's tensors and builds its [sampler.Field] from them;
// and a case in newSpec. A file of the new kind is written as format version 2 (see
// [Meta.Version]); nothing else changes. FORMAT.md says the same for the format.

// ArchMLP is the "arch" of a multilayer perceptron, [sampler.MLP] with
// [sampler.MLPSpec]: the kind of every file without an "arch" (all version 1 files
// written before "arch" existed).
const ArchMLP = "mlp"

// Archs lists the network kinds this package reads and writes.
func Archs() []string { return []string{ArchMLP, ArchUNet, ArchClassifier} }

// newSpec returns a pointer to a new, empty spec of the kind arch names, for a file's
// "model" metadata to decode into, or nil when arch names no kind this package knows.
// It is the one place that lists the kinds: a new kind adds a case.
func newSpec(arch string) Spec {
	switch arch {
	case ArchMLP:
		return &mlpSpec{}
	case ArchUNet:
		return &UNetSpec{}
	case ArchClassifier:
		return &ClassifierSpec{}
	}
	return nil
}

// A Spec is one network's shape, of one kind: the "model" metadata of a file whose
// "arch" is Arch(), in its JSON form. It says which tensors such a file holds and
// builds the network from them. The kinds are this package's own (see [Archs]);
// [Meta.Spec] gives a file's.
type Spec interface {
	// Arch is the kind's name, the value of "arch".
	Arch() string
	// Dim is the data dimension d: the length of x and of v(x, t).
	Dim() int
	// Validate reports whether the spec describes a network that can be built, within
	// limits that keep a hostile file from asking for absurd allocations.
	Validate() error
	// Tensors lists every tensor a file of this network holds, with its shape, in the
	// order writers store them. Only for a valid spec.
	Tensors() []TensorSpec
	// Build makes the network from its tensors' values, by name: each tensor Tensors
	// lists, holding the product of its shape in values, row-major (the caller checks
	// that), finite. It may keep the slices, so the caller must not change them after.
	Build(tensors map[string][]float32) (sampler.Field, error)
	// String describes the network in a few words, for messages: "3→64→64→2 silu".
	String() string
}

// TensorSpec is one tensor a network needs: its name and shape.
type TensorSpec struct {
	Name  string
	Shape []int
}

// mlpSpec is the "mlp" kind: [sampler.MLPSpec]. A Meta keeps an MLP's spec in
// [Meta.Model]; [Meta.Spec] wraps it in an mlpSpec.
type mlpSpec struct{ s sampler.MLPSpec }

func (m *mlpSpec) Arch() string    { return ArchMLP }
func (m *mlpSpec) Dim() int        { return m.s.Dim }
func (m *mlpSpec) Validate() error { return m.s.Validate() }
func (m *mlpSpec) String() string  { return describeModel(m.s) }

// Tensors are, for each Linear layer i, layers.{i}.weight [out, in] and
// layers.{i}.bias [out].
func (m *mlpSpec) Tensors() []TensorSpec {
	shapes := m.s.LayerShapes()
	ts := make([]TensorSpec, 0, 2*len(shapes))
	for i, sh := range shapes {
		ts = append(ts, TensorSpec{WeightName(i), []int{sh[0], sh[1]}}, TensorSpec{BiasName(i), []int{sh[0]}})
	}
	return ts
}

func (m *mlpSpec) Build(tensors map[string][]float32) (sampler.Field, error) {
	n := len(m.s.LayerShapes())
	w, b := make([][]float32, n), make([][]float32, n)
	for l := range n {
		w[l], b[l] = tensors[WeightName(l)], tensors[BiasName(l)]
	}
	return sampler.NewMLP(m.s, w, b)
}

func (m *mlpSpec) MarshalJSON() ([]byte, error) { return json.Marshal(m.s) }

// UnmarshalJSON decodes strictly: an unknown field is an error.
func (m *mlpSpec) UnmarshalJSON(b []byte) error { return strictJSON(string(b), &m.s) }

// arch is the kind of network m describes: Arch; when that is empty, Net's kind, or
// ArchMLP when Net is nil too.
func (m *Meta) arch() string {
	switch {
	case m.Arch != "":
		return m.Arch
	case m.Net != nil:
		return m.Net.Arch()
	}
	return ArchMLP
}

// Spec returns the network's spec: for an MLP, [Meta.Model] as a Spec; for another
// kind, [Meta.Net]. It refuses an arch this package does not know, and a Meta whose
// arch, Model and Net disagree (an MLP keeps its spec in Model and Net nil; another
// kind keeps its spec in Net, of the type that kind decodes to, and Model zero). It
// does not validate the spec itself (see [Spec.Validate]).
func (m *Meta) Spec() (Spec, error) {
	arch := m.arch()
	zero := newSpec(arch)
	if zero == nil {
		return nil, unknownArch(arch)
	}
	if arch == ArchMLP {
		if m.Net != nil {
			return nil, errf("arch %q, but Meta.Net holds a %q spec (an MLP's spec goes in Meta.Model)", arch, m.Net.Arch())
		}
		return &mlpSpec{m.Model}, nil
	}
	switch {
	case m.Net == nil:
		return nil, errf("arch %q, but Meta.Net holds no spec", arch)
	case m.Net.Arch() != arch:
		return nil, errf("arch %q, but Meta.Net holds a %q spec", arch, m.Net.Arch())
	case reflect.TypeOf(m.Net) != reflect.TypeOf(zero):
		return nil, errf("arch %q: Meta.Net is a %T, want a %T", arch, m.Net, zero)
	case !zeroMLP(m.Model):
		return nil, errf("arch %q, but Meta.Model holds an MLP spec (%s)", arch, describeModel(m.Model))
	}
	return m.Net, nil
}

func unknownArch(arch string) error { return errf("unknown network arch %q", arch) }

func zeroMLP(s sampler.MLPSpec) bool {
	return s.Dim == 0 && s.Hidden == nil && s.Activation == "" && s.Time == sampler.TimeEmbedding{}
}

// setSpec stores a decoded spec where Meta keeps it: an MLP's in Model, another
// kind's in Net.
func (m *Meta) setSpec(s Spec) {
	if ms, ok := s.(*mlpSpec); ok {
		m.Model = ms.s
		return
	}
	m.Net = s
}

// modelJSON is the value written as the "model" metadata.
func (m *Meta) modelJSON() any {
	if m.arch() == ArchMLP {
		return m.Model
	}
	return m.Net
}

// describeTensors lists a spec's tensor names for an error message, eliding the middle
// of a long list.
func describeTensors(ts []TensorSpec) string {
	names := make([]string, 0, len(ts))
	for i, t := range ts {
		if len(ts) > 6 && i == 4 {
			names = append(names, "…")
		}
		if len(ts) <= 6 || i < 4 || i == len(ts)-1 {
			names = append(names, t.Name)
		}
	}
	return strconv.Itoa(len(ts)) + " tensors: " + strings.Join(names, ", ")
}
