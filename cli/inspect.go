package cli

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

func inspectCommand() Command {
	return Command{
		Name:    "inspect",
		Summary: "show a model file's metadata and tensors",
		Run:     runInspect,
	}
}

// inspectJSON is what inspect -json prints.
type inspectJSON struct {
	File       string             `json:"file"`
	Size       int64              `json:"size"`
	Format     string             `json:"format"`
	Version    int                `json:"format_version"`
	Arch       string             `json:"arch"`
	Model      any                `json:"model"` // the arch's spec (a sampler.MLPSpec for "mlp")
	Path       weights.PathInfo   `json:"path"`
	Data       weights.DataInfo   `json:"data"`
	Provenance weights.Provenance `json:"provenance"`
	Extra      map[string]string  `json:"extra,omitempty"`
	Tensors    []tensorJSON       `json:"tensors"`
	Params     int                `json:"params"`
	UNet       *unetJSON          `json:"unet,omitempty"` // for arch "unet"
}

type tensorJSON struct {
	Name  string        `json:"name"`
	DType weights.DType `json:"dtype"`
	Shape []int         `json:"shape"`
	Bytes int           `json:"bytes"`
}

func runInspect(env Env) error {
	fs := NewFlagSet(env, "inspect", "[-json] FILE")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	if err := Parse(fs, env.Args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return Usagef("want one model file, got %d arguments", fs.NArg())
	}
	name := fs.Arg(0)
	f, err := readModel(name)
	if err != nil {
		return err
	}
	var size int64
	if st, err := os.Stat(name); err == nil {
		size = st.Size()
	}
	m := f.Meta
	var spec any = m.Model
	if m.Arch != weights.ArchMLP && m.Net != nil {
		spec = m.Net
	}
	info := inspectJSON{File: name, Size: size, Format: weights.FormatName, Version: m.Version(), Arch: m.Arch,
		Model: spec, Path: m.Path, Data: m.Data, Provenance: m.Provenance, Extra: m.Extra, Params: f.NumParams()}
	if u, ok := m.Net.(*weights.UNetSpec); ok {
		info.UNet = newUNetJSON(u.Config)
	}
	for _, t := range f.Tensors {
		info.Tensors = append(info.Tensors, tensorJSON{t.Name, t.DType, t.Shape, len(t.Data) * t.DType.Size()})
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	printInspect(env.Stdout, &info)
	return nil
}

func printInspect(out io.Writer, in *inspectJSON) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(w, "%s\t%s\n", k, fmt.Sprintf(format, a...)) }
	row("file", "%s (%s bytes)", in.File, commas(int(in.Size)))
	row("format", "%s version %d (safetensors)", in.Format, in.Version)
	printModel(row, in)
	p := in.Path
	var params []string
	switch p.Name {
	case sampler.PathOT:
		params = append(params, fmt.Sprintf("sigma_min %g", p.SigmaMin))
	case sampler.PathVP:
		params = append(params, fmt.Sprintf("beta_min %g", p.BetaMin), fmt.Sprintf("beta_max %g", p.BetaMax), fmt.Sprintf("eps %g", p.Eps))
	case sampler.PathVE:
		params = append(params, fmt.Sprintf("sigma_min %g", p.SigmaMin), fmt.Sprintf("sigma_max %g", p.SigmaMax), fmt.Sprintf("eps %g", p.Eps))
	}
	src := 1.0
	if path, err := sampler.NewPath(p.PathSpec); err == nil {
		src = path.SourceStd()
	}
	row("path", "%s (%s), trained on t ∈ [%g, %g], source N(0, %g²·I)", p.Name, strings.Join(params, ", "), p.TMin, p.TMax, src)
	dn := in.Data.Name
	if dn == "" {
		dn = "(unnamed)"
	}
	norm := "no normalization"
	if nz := in.Data.Normalization; nz != nil {
		norm = fmt.Sprintf("normalized: data = %v + %v ⊙ x", nz.Mean, nz.Std)
	}
	row("data", "%s, dim %d, %s", dn, in.Data.Dim, norm)
	printImageData(row, in.Data)
	if src := in.Data.Source; src.Rows > 0 {
		row("  source", "%s, %d rows, sha256 %s; %d held out (%s, seed %d)",
			cmp.Or(src.File, "(no file)"), src.Rows, cmp.Or(src.SHA256, "(none)"), src.Holdout.Rows, cmp.Or(src.Holdout.Rule, "no rule"), src.Holdout.Seed)
	}
	pv := in.Provenance
	row("provenance", "")
	for _, kv := range []struct {
		k    string
		v    any
		show bool
	}{
		{"command", pv.Command, pv.Command != ""},
		{"steps", pv.Steps, true},
		{"final_loss", pv.FinalLoss, pv.FinalLoss != 0},
		{"seed", pv.Seed, true},
		{"batch", pv.Batch, pv.Batch != 0},
		{"lr", pv.LR, pv.LR != 0},
		{"ema", pv.EMA, pv.EMA != 0},
		{"optimizer", pv.Optimizer, pv.Optimizer != ""},
		{"coupling", pv.Coupling, pv.Coupling != ""},
		{"device", pv.Device, pv.Device != ""},
		{"train_seconds", pv.Seconds, pv.Seconds != 0},
		{"libtorch", pv.LibTorch, pv.LibTorch != ""},
		{"gotch", pv.Gotch, pv.Gotch != ""},
		{"go", pv.Go, pv.Go != ""},
		{"date", pv.Date, pv.Date != ""},
	} {
		if kv.show {
			row("  "+kv.k, "%v", kv.v)
		}
	}
	for _, k := range sortedKeys(pv.Notes) {
		row("  notes."+k, "%s", oneLineValue(pv.Notes[k]))
	}
	if len(in.Extra) > 0 {
		row("extra", "")
		for _, k := range sortedKeys(in.Extra) {
			row("  "+oneLineValue(k), "%s", oneLineValue(in.Extra[k]))
		}
	}
	w.Flush()

	fmt.Fprintln(out)
	printTensors(out, in)
}

// printTensors is inspect's table of tensors: names, dtypes and shapes to the left,
// byte counts to the right, and a total.
func printTensors(out io.Writer, in *inspectJSON) {
	rows := [][4]string{{"tensor", "dtype", "shape", "bytes"}}
	total := 0
	for _, t := range in.Tensors {
		rows = append(rows, [4]string{t.Name, string(t.DType), fmt.Sprint(t.Shape), commas(t.Bytes)})
		total += t.Bytes
	}
	rows = append(rows, [4]string{fmt.Sprintf("total: %d tensors", len(in.Tensors)), "", commas(in.Params) + " params", commas(total)})
	var wd [4]int
	for _, r := range rows {
		for i, c := range r {
			wd[i] = max(wd[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range rows {
		// Names, dtypes and shapes to the left, byte counts to the right.
		fmt.Fprintf(out, "%-*s  %-*s  %-*s  %*s\n", wd[0], r[0], wd[1], r[1], wd[2], r[2], wd[3], r[3])
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// oneLineValue quotes a string that would break the layout.
func oneLineValue(s string) string {
	if strings.ContainsAny(s, "\n\r\t") || s == "" {
		return strconv.Quote(s)
	}
	return s
}

// commas writes n with thousands separators.
func commas(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}

// printModel describes the network, as its kind allows.
func printModel(row func(k, format string, a ...any), in *inspectJSON) {
	switch mo := in.Model.(type) {
	case sampler.MLPSpec:
		printMLP(row, mo)
	case *weights.UNetSpec:
		printUNet(row, mo.Config, in.Params)
	default:
		row("model", "%s; %s parameters", in.Arch, commas(in.Params))
	}
}

func printMLP(row func(k, format string, a ...any), mo sampler.MLPSpec) {
	widths := []string{strconv.Itoa(mo.InputDim())}
	for _, h := range mo.Hidden {
		widths = append(widths, strconv.Itoa(h))
	}
	widths = append(widths, strconv.Itoa(mo.Dim))
	tm := mo.Time.Kind
	if mo.Time.Kind == sampler.TimeFourier {
		tm = fmt.Sprintf("fourier, %d frequencies", mo.Time.Freqs)
	}
	row("model", "MLP %s, %s, time features %s; %s parameters", strings.Join(widths, "→"), mo.Activation, tm, commas(mo.NumParams()))
}
