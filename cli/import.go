package cli

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/outfile"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// flowmatch import turns a plain safetensors file holding an MLP velocity field's
// state_dict, as PyTorch code saves it (safetensors.torch.save_file(model.state_dict(),
// …)), into a flowmatch model file. Such a file holds tensors and nothing else, so the
// user says what it cannot: which tensors are the Linear layers, in order, the
// activation between them, how t enters the first layer, the probability path, the
// data, and whether the code that trained it runs time the other way (t = 1 noise).
// weights/FORMAT.md, "Importing from PyTorch", documents it.

func importCommand() Command {
	return Command{
		Name:    "import",
		Summary: "turn a PyTorch MLP's state_dict saved as safetensors into a model file",
		Run:     runImport,
	}
}

// importPreset is a common layout of a velocity MLP in PyTorch code: the flags it
// stands for.
type importPreset struct {
	layers []string
	act    string
	time   string // sampler.TimeRaw
	order  string // "xt": the first layer's input is [x, t]
	path   string
}

// importPresets are the layouts -preset names. Their flags can each be overridden.
//
// torchcfm is TorchCFM's torchcfm.models.MLP(dim, w=64, time_varying=True):
// Sequential(Linear(dim+1, w), SELU(), Linear(w, w), SELU(), Linear(w, w), SELU(),
// Linear(w, dim)) called on torch.cat([x, t], 1), trained with t = 0 the source.
//
// fm2d is the MLP of facebookresearch/flow_matching's 2-D tutorial
// (examples/2d_flow_matching.ipynb): main = Sequential(Linear(dim+1, h), Swish(), three
// times Linear(h, h), Swish(), then Linear(h, dim)), forward(x, t) =
// main(torch.cat([x, t], dim=1)), Swish(z) = sigmoid(z)·z, CondOT path, t = 0 noise.
var importPresets = map[string]importPreset{
	"torchcfm": {layers: []string{"net.0", "net.2", "net.4", "net.6"}, act: sampler.ActSELU,
		time: sampler.TimeRaw, order: "xt", path: sampler.PathOT},
	"fm2d": {layers: []string{"main.0", "main.2", "main.4", "main.6", "main.8"}, act: sampler.ActSiLU,
		time: sampler.TimeRaw, order: "xt", path: sampler.PathOT},
}

func presetNames() []string {
	names := make([]string, 0, len(importPresets))
	for n := range importPresets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// importFlags are import's flags as parsed.
type importFlags struct {
	preset, layers, act, time, order, path, data, mean, std, dtype, out *string
	freqs                                                               *int
	flip                                                                *bool
	sigmaMin, sigmaMax, betaMin, betaMax, eps, tMin, tMax               *float64
}

func addImportFlags(fs *flag.FlagSet) *importFlags {
	return &importFlags{
		out:      fs.String("o", "", "output model `FILE` (.safetensors); required"),
		preset:   fs.String("preset", "", "a known layout, setting -layers, -act, -time, -order and -path: "+strings.Join(presetNames(), ", ")),
		layers:   fs.String("layers", "", "the Linear layers, first to last, comma-separated: each `NAME` has NAME.weight [out, in] and NAME.bias [out]; NAME.* takes every NAME.0, NAME.1, … in order"),
		act:      fs.String("act", "", "the activation between the layers: "+strings.Join(sampler.Activations(), ", ")),
		time:     fs.String("time", sampler.TimeRaw, "how t enters the first layer: raw (one input, t) or fourier (1+2F inputs: t, sin 2πkt, cos 2πkt for k = 1 … F)"),
		freqs:    fs.Int("freqs", 0, "F, the frequencies of -time fourier"),
		order:    fs.String("order", "xt", "the first layer's input order: xt ([x, time features]) or tx ([time features, x])"),
		flip:     fs.Bool("flip-time", false, "the network was trained with t = 1 the noise and t = 0 the data: import v(x, t) = −v_theirs(x, 1 − t)"),
		path:     fs.String("path", "", "the probability path it was trained on: "+strings.Join(sampler.PathNames(), ", ")+" (a -preset sets ot)"),
		sigmaMin: fs.Float64("sigma-min", 0, "σ_min (ot: default 0; ve: default 0.01)"),
		sigmaMax: fs.Float64("sigma-max", 0, "σ_max (ve: default 10)"),
		betaMin:  fs.Float64("beta-min", 0, "β_min (vp: default 0.1)"),
		betaMax:  fs.Float64("beta-max", 0, "β_max (vp: default 20)"),
		eps:      fs.Float64("eps", 0, "vp and ve are sampled on [0, 1−eps] (default 0.001)"),
		tMin:     fs.Float64("t-min", 0, "the first time of the trained range"),
		tMax:     fs.Float64("t-max", 0, "the last time of the trained range (default: the path's end)"),
		data:     fs.String("data", "", "the dataset it generates, as flowmatch names it: "+strings.Join(dataset.Names(), ", ")),
		mean:     fs.String("mean", "", "the data normalisation's means, comma-separated: data = mean + std·x"),
		std:      fs.String("std", "", "the data normalisation's standard deviations, comma-separated"),
		dtype:    fs.String("dtype", "f32", "storage type of the output: f32, f16 or bf16"),
	}
}

// importPlan is everything the flags say, checked before the input is read.
type importPlan struct {
	in, out string
	layers  []string // layer names; an entry "P.*" is expanded against the file
	spec    sampler.MLPSpec
	tx      bool // the first layer's input is [t features, x]
	flip    bool
	path    weights.PathInfo
	data    weights.DataInfo
	dtype   weights.DType
}

func runImport(env Env) error {
	fs := NewFlagSet(env, "import", "[-preset P | -layers L -act A] [flags] IN.safetensors -o OUT.safetensors")
	fl := addImportFlags(fs)
	if err := Parse(fs, env.Args); err != nil {
		return err
	}
	plan, err := fl.plan(fs)
	if err != nil {
		return err
	}
	if err := outfile.Check(plan.out); err != nil {
		return Usagef("-o: %v", err)
	}
	if same(plan.in, plan.out) {
		return Usagef("-o %s is the input file: write the model file beside it", plan.out)
	}
	st, err := openSafetensors(plan.in)
	if err != nil {
		return err
	}
	defer st.close()
	f, desc, err := plan.build(st)
	if err != nil {
		return err
	}
	f.Meta.Provenance.Command = weights.RecordedCommand("import", env.Args)
	f.Meta.Provenance.Notes = map[string]string{"imported_from": baseName(plan.in), "import_layers": strings.Join(desc.layers, ",")}
	if err := weights.WriteFile(plan.out, f, plan.dtype); err != nil {
		var fe *weights.FormatError
		if errors.As(err, &fe) {
			return &UsageError{err}
		}
		return err
	}
	data := f.Meta.Data.Name
	if data == "" {
		data = "unnamed data"
	}
	flip := ""
	if plan.flip {
		flip = ", time flipped"
	}
	fmt.Fprintf(env.Stderr, "flowmatch import: %s (%s) → %s: %s, %s t%s, path %s, %s, %s, %s params\n",
		baseName(plan.in), layerRange(desc.layers), plan.out, desc.net, plan.spec.Time.Kind, flip, plan.path.Name, data, plan.dtype, commas(f.NumParams()))
	return nil
}

// same reports whether a and b name the same existing file.
func same(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

func layerRange(ls []string) string {
	if len(ls) <= 3 {
		return strings.Join(ls, ", ")
	}
	return ls[0] + ", " + ls[1] + " … " + ls[len(ls)-1]
}

// plan checks the flags against each other and turns them into a plan.
func (fl *importFlags) plan(fs *flag.FlagSet) (*importPlan, error) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	p := &importPlan{}
	switch {
	case fs.NArg() != 1:
		return nil, Usagef("want one input file (a safetensors state_dict), got %d arguments", fs.NArg())
	case *fl.out == "":
		return nil, Usagef("-o is required: the model file to write")
	}
	p.in, p.out = fs.Arg(0), *fl.out
	layers, act, tkind, order, path := *fl.layers, *fl.act, *fl.time, *fl.order, *fl.path
	if *fl.preset != "" {
		pr, ok := importPresets[*fl.preset]
		if !ok {
			return nil, Usagef("unknown -preset %q (want %s)", *fl.preset, strings.Join(presetNames(), " or "))
		}
		if !set["layers"] {
			layers = strings.Join(pr.layers, ",")
		}
		if !set["act"] {
			act = pr.act
		}
		if !set["time"] {
			tkind = pr.time
		}
		if !set["order"] {
			order = pr.order
		}
		if !set["path"] {
			path = pr.path
		}
	}
	if err := p.network(layers, act, tkind, order, *fl.freqs); err != nil {
		return nil, err
	}
	p.flip = *fl.flip
	if err := fl.pathInfo(p, path, set); err != nil {
		return nil, err
	}
	if err := fl.dataInfo(p); err != nil {
		return nil, err
	}
	dt, err := weights.ParseDType(*fl.dtype)
	if err != nil {
		return nil, Usagef("unknown -dtype %q (want f32, f16 or bf16)", *fl.dtype)
	}
	p.dtype = dt
	return p, nil
}

// network checks the flags that shape the network.
func (p *importPlan) network(layers, act, tkind, order string, freqs int) error {
	if layers == "" {
		return Usagef("name the Linear layers with -layers (e.g. -layers 'net.*') or use -preset (%s)", strings.Join(presetNames(), ", "))
	}
	for _, l := range strings.Split(layers, ",") {
		l = strings.TrimSpace(l)
		if l == "" || l == "*" || l == ".*" {
			return Usagef("-layers %q: a layer name is empty", layers)
		}
		p.layers = append(p.layers, l)
	}
	if act == "" {
		return Usagef("-act is required without -preset: the activation between the layers (%s)", strings.Join(sampler.Activations(), ", "))
	}
	if !slices.Contains(sampler.Activations(), act) {
		return Usagef("unknown -act %q (want %s)", act, strings.Join(sampler.Activations(), ", "))
	}
	p.spec.Activation = act
	switch tkind {
	case sampler.TimeRaw:
		if freqs != 0 {
			return Usagef("-freqs goes with -time fourier (got -time raw)")
		}
	case sampler.TimeFourier:
		if freqs < 1 || freqs > 256 {
			return Usagef("-time fourier needs -freqs F, 1 to 256 (got %d)", freqs)
		}
	default:
		return Usagef("unknown -time %q (want raw or fourier)", tkind)
	}
	p.spec.Time = sampler.TimeEmbedding{Kind: tkind, Freqs: freqs}
	switch order {
	case "xt":
	case "tx":
		p.tx = true
	default:
		return Usagef("unknown -order %q (want xt or tx)", order)
	}
	return nil
}

// pathInfo checks the path flags: a parameter only for the path that has it.
func (fl *importFlags) pathInfo(p *importPlan, name string, set map[string]bool) error {
	if name == "" {
		return Usagef("-path is required without -preset: the probability path it was trained on (%s)", strings.Join(sampler.PathNames(), ", "))
	}
	uses := map[string][]string{
		sampler.PathOT: {"sigma-min"},
		sampler.PathVP: {"beta-min", "beta-max", "eps"},
		sampler.PathVE: {"sigma-min", "sigma-max", "eps"},
	}
	params, ok := uses[name]
	if !ok {
		return Usagef("unknown -path %q (want %s)", name, strings.Join(sampler.PathNames(), ", "))
	}
	for _, f := range []string{"sigma-min", "sigma-max", "beta-min", "beta-max", "eps"} {
		if set[f] && !slices.Contains(params, f) {
			return Usagef("-%s does not apply to -path %s", f, name)
		}
	}
	spec := sampler.PathSpec{Name: name, SigmaMin: *fl.sigmaMin, SigmaMax: *fl.sigmaMax,
		BetaMin: *fl.betaMin, BetaMax: *fl.betaMax, Eps: *fl.eps}
	path, err := sampler.NewPath(spec)
	if err != nil {
		return Usagef("-path %s: %v", name, strings.TrimPrefix(err.Error(), "sampler: "))
	}
	tmin, tmax := *fl.tMin, *fl.tMax
	if tmax == 0 {
		tmax = path.TMax()
	}
	if !(tmin >= 0 && tmin < tmax && tmax <= path.TMax()) {
		return Usagef("-t-min %g, -t-max %g: want 0 ≤ t-min < t-max ≤ %g (path %s)", tmin, tmax, path.TMax(), name)
	}
	p.path = weights.PathInfo{PathSpec: path.Spec(), TMin: tmin, TMax: tmax}
	return nil
}

// dataInfo checks -data, -mean and -std (the dimension is checked against the
// network's later).
func (fl *importFlags) dataInfo(p *importPlan) error {
	if n := *fl.data; n != "" {
		if dataset.Dim(n) == 0 {
			return Usagef("unknown -data %q (want one of %s, or none)", n, strings.Join(dataset.Names(), ", "))
		}
		p.data.Name = n
	}
	if (*fl.mean == "") != (*fl.std == "") {
		return Usagef("-mean and -std go together (data = mean + std·x)")
	}
	if *fl.mean == "" {
		return nil
	}
	mean, err := floatList("-mean", *fl.mean)
	if err != nil {
		return err
	}
	std, err := floatList("-std", *fl.std)
	if err != nil {
		return err
	}
	if len(mean) != len(std) {
		return Usagef("-mean has %d values and -std %d: want one of each per coordinate", len(mean), len(std))
	}
	for j, s := range std {
		if !(s > 0) {
			return Usagef("-std value %d is %g: want each > 0", j, s)
		}
	}
	p.data.Normalization = &weights.Normalization{Mean: mean, Std: std}
	return nil
}

func floatList(flagName, s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, Usagef("%s %q: %q is not a finite number", flagName, s, f)
		}
		out = append(out, v)
	}
	return out, nil
}

// importDesc describes what was imported, for the summary and the provenance.
type importDesc struct {
	layers []string // the layer names, expanded
	net    string   // "3→64→64→2 selu"
}

// build reads the layers from st, checks every shape, transforms the parameters to
// flowmatch's conventions and returns the model file.
func (p *importPlan) build(st *safetensorsFile) (*weights.File, importDesc, error) {
	var desc importDesc
	layers, err := st.expand(p.layers)
	if err != nil {
		return nil, desc, err
	}
	desc.layers = layers
	ws, bs, err := p.gather(st, layers)
	if err != nil {
		return nil, desc, err
	}
	d := p.spec.Dim
	if p.tx {
		ws[0] = timeLast(ws[0], len(bs[0]), p.spec.Time.Size(), d)
	}
	if p.flip {
		flipTime(ws, bs, p.spec.Time, d)
	}
	meta := weights.Meta{Model: p.spec, Path: p.path, Data: p.data}
	meta.Data.Dim = d
	f, err := weights.NewFile(meta, ws, bs)
	if err != nil {
		return nil, desc, &UsageError{err}
	}
	desc.net = fmt.Sprintf("%d", p.spec.InputDim())
	for _, h := range p.spec.Hidden {
		desc.net += "→" + strconv.Itoa(h)
	}
	desc.net += "→" + strconv.Itoa(d) + " " + p.spec.Activation
	return f, desc, nil
}

// gather checks the layers' shapes against each other and against the flags, finds
// the network's dimension and widths (into p.spec), and reads the values. Every
// mismatch names the first tensor that does not fit.
func (p *importPlan) gather(st *safetensorsFile, layers []string) (ws, bs [][]float32, err error) {
	if len(layers) < 2 {
		return nil, nil, Usagef("-layers names %d layer: an MLP has at least 2 Linear layers (one hidden layer)", len(layers))
	}
	used := map[string]bool{}
	prevOut := 0
	var outs []int
	for i, l := range layers {
		wn, bn := l+".weight", l+".bias"
		w, err := st.entry(wn, "the weight of layer "+l)
		if err != nil {
			return nil, nil, err
		}
		if len(w.shape) != 2 {
			return nil, nil, Usagef("tensor %q: shape %v is not a matrix [out, in] (is %s a Linear layer?)", wn, w.shape, l)
		}
		if i > 0 && w.shape[1] != prevOut {
			return nil, nil, Usagef("tensor %q: shape %v takes %d inputs, but %s has %d outputs (want [_, %d])",
				wn, w.shape, w.shape[1], layers[i-1], prevOut, prevOut)
		}
		b, err := st.entry(bn, "the bias of layer "+l+" (flowmatch's layers have biases: nn.Linear(bias=True))")
		if err != nil {
			return nil, nil, err
		}
		if len(b.shape) != 1 || b.shape[0] != w.shape[0] {
			return nil, nil, Usagef("tensor %q: shape %v, want [%d] (%s has %d outputs)", bn, b.shape, w.shape[0], wn, w.shape[0])
		}
		used[wn], used[bn] = true, true
		prevOut = w.shape[0]
		outs = append(outs, prevOut)
	}
	for _, n := range st.names {
		if !used[n] {
			return nil, nil, Usagef("tensor %q is not in the layers -layers names (%s): the file holds another network; name every Linear layer, in order, with -layers",
				n, strings.Join(layers, ","))
		}
	}
	d := prevOut
	p.spec.Dim, p.spec.Hidden = d, outs[:len(outs)-1]
	first := st.entries[layers[0]+".weight"]
	if in, want := first.shape[1], p.spec.InputDim(); in != want {
		return nil, nil, Usagef("tensor %q: shape %v takes %d inputs, want %d: %d data coordinates (the outputs of %s) + %s%s",
			first.name, first.shape, in, want, d, layers[len(layers)-1], timeFeatures(p.spec.Time), noTimeHint(in, d))
	}
	if n := p.data.Name; n != "" && dataset.Dim(n) != d {
		return nil, nil, Usagef("-data %s is %d-dimensional, but the network's output (%s) has %d coordinates", n, dataset.Dim(n), layers[len(layers)-1], d)
	}
	if nz := p.data.Normalization; nz != nil && len(nz.Mean) != d {
		return nil, nil, Usagef("-mean and -std have %d values, want %d (the network's dimension)", len(nz.Mean), d)
	}
	for _, l := range layers {
		w, err := st.values(l + ".weight")
		if err != nil {
			return nil, nil, err
		}
		b, err := st.values(l + ".bias")
		if err != nil {
			return nil, nil, err
		}
		ws, bs = append(ws, w), append(bs, b)
	}
	return ws, bs, nil
}

func timeFeatures(e sampler.TimeEmbedding) string {
	if e.Kind == sampler.TimeFourier {
		return fmt.Sprintf("%d time features (-time fourier -freqs %d)", e.Size(), e.Freqs)
	}
	return "1 time input (-time raw)"
}

func noTimeHint(in, d int) string {
	if in == d {
		return "; it takes no t (a TorchCFM MLP needs time_varying=True)"
	}
	return ""
}

// timeLast moves the first tf input columns of a [out, in] matrix (the time features,
// first in a [t, x] input) after the other d, the order flowmatch's MLP takes.
func timeLast(w []float32, out, tf, d int) []float32 {
	in := tf + d
	r := make([]float32, len(w))
	for o := 0; o < out; o++ {
		row := w[o*in : (o+1)*in]
		copy(r[o*in:], row[tf:])
		copy(r[o*in+d:], row[:tf])
	}
	return r
}

// flipTime turns a network trained with t = 1 the noise into one with t = 0 the noise:
// v(x, t) = −v_theirs(x, 1 − t). The first layer sees 1 − t: for the feature t,
// W·(1 − t) + b = −W·t + (b + W), so its column is negated and added to the bias; a
// Fourier feature sin 2πk(1 − t) = −sin 2πkt is negated, cos 2πk(1 − t) = cos 2πkt is
// kept. The last layer is negated. ws[0] is [out, d + features], time features last.
func flipTime(ws, bs [][]float32, e sampler.TimeEmbedding, d int) {
	in := d + e.Size()
	w0, b0 := ws[0], bs[0]
	for o := range b0 {
		row := w0[o*in : (o+1)*in]
		b0[o] = float32(float64(b0[o]) + float64(row[d]))
		row[d] = -row[d]
		for k := 1; k <= e.Freqs && e.Kind == sampler.TimeFourier; k++ {
			row[d+2*k-1] = -row[d+2*k-1]
		}
	}
	last := len(ws) - 1
	for i := range ws[last] {
		ws[last][i] = -ws[last][i]
	}
	for i := range bs[last] {
		bs[last][i] = -bs[last][i]
	}
}

// baseName is the last element of path p, whether its separators are / or \.
func baseName(p string) string {
	q := strings.TrimRight(p, `/\`)
	if q == "" {
		return p
	}
	return q[strings.LastIndexAny(q, `/\`)+1:]
}

// safetensorsFile is a plain safetensors file, open for reading: its header, parsed,
// and the tensors' values read on demand. Only what import needs: the format in
// weights requires flowmatch's metadata, which a PyTorch file lacks.
type safetensorsFile struct {
	path    string
	fd      *os.File
	start   int64 // where the data buffer begins
	entries map[string]stEntry
	names   []string // sorted
}

type stEntry struct {
	name       string
	dtype      string
	shape      []int
	begin, end int64
}

// stDTypeSize is the size of each safetensors dtype.
var stDTypeSize = map[string]int{"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "I16": 2, "U16": 2,
	"F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8}

// openSafetensors opens path and reads its header. Every way the input can be wrong is
// a usage error that names the file.
func openSafetensors(path string) (*safetensorsFile, error) {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return nil, &UsageError{err}
	case fi.IsDir():
		return nil, Usagef("%s is a folder, not a safetensors file", path)
	case !fi.Mode().IsRegular():
		return nil, Usagef("%s is not a regular file", path)
	}
	fd, err := os.Open(path)
	if err != nil {
		return nil, &UsageError{err}
	}
	st := &safetensorsFile{path: path, fd: fd}
	if err := st.readHeader(fi.Size()); err != nil {
		fd.Close()
		return nil, err
	}
	return st, nil
}

func (st *safetensorsFile) close() { st.fd.Close() }

func (st *safetensorsFile) bad(format string, a ...any) error {
	return Usagef("%s: not a safetensors file: %s", st.path, fmt.Sprintf(format, a...))
}

func (st *safetensorsFile) readHeader(size int64) error {
	var lb [8]byte
	if _, err := io.ReadFull(st.fd, lb[:]); err != nil {
		return st.bad("%d bytes, too short for the header length", size)
	}
	if string(lb[:4]) == "PK\x03\x04" {
		return Usagef("%s is a PyTorch pickle (torch.save), not safetensors: save the state_dict with safetensors.torch.save_file", st.path)
	}
	n := binary.LittleEndian.Uint64(lb[:])
	if n < 2 || n > weights.MaxHeaderSize || int64(n) > size-8 {
		return st.bad("header length %d outside [2, %d] or beyond the file's %d bytes", n, min(weights.MaxHeaderSize, max(size-8, 0)), size)
	}
	h := make([]byte, n)
	if _, err := io.ReadFull(st.fd, h); err != nil {
		return &UsageError{fmt.Errorf("%s: %w", st.path, err)}
	}
	st.start = 8 + int64(n)
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(h))
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return st.bad("the header is not a JSON object")
	}
	if md, ok := raw["__metadata__"]; ok {
		var m map[string]string
		if json.Unmarshal(md, &m) == nil && m[weights.KeyFormat] == weights.FormatName {
			return Usagef("%s is already a flowmatch model file (flowmatch inspect shows it)", st.path)
		}
		delete(raw, "__metadata__")
	}
	st.entries = make(map[string]stEntry, len(raw))
	for name, r := range raw {
		e, err := st.parseEntry(name, r, size-st.start)
		if err != nil {
			return err
		}
		st.entries[name] = e
		st.names = append(st.names, name)
	}
	sort.Strings(st.names)
	if len(st.names) == 0 {
		return Usagef("%s holds no tensors", st.path)
	}
	return nil
}

func (st *safetensorsFile) parseEntry(name string, r json.RawMessage, buf int64) (stEntry, error) {
	var v struct {
		DType       string  `json:"dtype"`
		Shape       []int64 `json:"shape"`
		DataOffsets []int64 `json:"data_offsets"`
	}
	if err := json.Unmarshal(r, &v); err != nil || v.DType == "" || v.Shape == nil || len(v.DataOffsets) != 2 {
		return stEntry{}, st.bad("tensor %q has no dtype, shape and data_offsets", name)
	}
	e := stEntry{name: name, dtype: v.DType, begin: v.DataOffsets[0], end: v.DataOffsets[1]}
	n := int64(1)
	for _, s := range v.Shape {
		if s < 0 || s > math.MaxInt32 || (s > 0 && n > math.MaxInt64/8/s) {
			return e, st.bad("tensor %q: shape %v", name, v.Shape)
		}
		n *= s
		e.shape = append(e.shape, int(s))
	}
	if e.begin < 0 || e.begin > e.end || e.end > buf {
		return e, st.bad("tensor %q: data_offsets [%d, %d] outside the %d-byte data buffer", name, e.begin, e.end, buf)
	}
	if size, ok := stDTypeSize[e.dtype]; ok && e.end-e.begin != n*int64(size) {
		return e, st.bad("tensor %q: data_offsets [%d, %d] hold %d bytes, but %s %v needs %d",
			name, e.begin, e.end, e.end-e.begin, e.dtype, e.shape, n*int64(size))
	}
	return e, nil
}

// expand replaces each "P.*" in layers with every P.N (N = 0, 1, …) whose weight the
// file holds, in increasing N.
func (st *safetensorsFile) expand(layers []string) ([]string, error) {
	var out []string
	for _, l := range layers {
		prefix, ok := strings.CutSuffix(l, ".*")
		if !ok {
			out = append(out, l)
			continue
		}
		var idx []int
		for _, n := range st.names {
			rest, ok := strings.CutPrefix(n, prefix+".")
			if !ok {
				continue
			}
			num, ok := strings.CutSuffix(rest, ".weight")
			if k, err := strconv.Atoi(num); ok && err == nil && k >= 0 && strconv.Itoa(k) == num {
				idx = append(idx, k)
			}
		}
		if len(idx) == 0 {
			return nil, Usagef("-layers %s: the file has no tensor %s.N.weight (it holds %s)", l, prefix, st.list())
		}
		sort.Ints(idx)
		for _, k := range idx {
			out = append(out, prefix+"."+strconv.Itoa(k))
		}
	}
	return out, nil
}

// list names the file's tensors for a message, eliding the middle of a long list.
func (st *safetensorsFile) list() string {
	ns := st.names
	if len(ns) > 8 {
		ns = append(append(slices.Clone(ns[:6]), "…"), ns[len(ns)-1])
	}
	return fmt.Sprintf("%d tensors: %s", len(st.names), strings.Join(ns, ", "))
}

func (st *safetensorsFile) entry(name, what string) (stEntry, error) {
	e, ok := st.entries[name]
	if !ok {
		return e, Usagef("tensor %q (%s) is not in %s, which holds %s", name, what, baseName(st.path), st.list())
	}
	return e, nil
}

// values reads a tensor as float32: F32, F16 and BF16 exactly, F64 rounded. A value
// that is not finite (or overflows float32) is an error naming the tensor and index.
func (st *safetensorsFile) values(name string) ([]float32, error) {
	e := st.entries[name]
	size, ok := map[string]int{"F32": 4, "F16": 2, "BF16": 2, "F64": 8}[e.dtype]
	if !ok {
		return nil, Usagef("tensor %q: dtype %s is not a floating-point type (want F32, F64, F16 or BF16)", name, e.dtype)
	}
	b := make([]byte, e.end-e.begin)
	if _, err := st.fd.ReadAt(b, st.start+e.begin); err != nil {
		return nil, fmt.Errorf("%s: tensor %q: %w", st.path, name, err)
	}
	out := make([]float32, len(b)/size)
	for i := range out {
		switch e.dtype {
		case "F32":
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		case "F16":
			out[i] = weights.Float16FromBits(binary.LittleEndian.Uint16(b[2*i:]))
		case "BF16":
			out[i] = weights.BFloat16FromBits(binary.LittleEndian.Uint16(b[2*i:]))
		case "F64":
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
		}
		if v := float64(out[i]); math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, Usagef("tensor %q: value %d is %v (after conversion to float32): a model file holds finite values only", name, i, out[i])
		}
	}
	return out, nil
}
