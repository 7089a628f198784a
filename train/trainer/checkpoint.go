package trainer

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/flowmatch/flowmatch/outfile"
	"github.com/flowmatch/flowmatch/sampler"
)

// A checkpoint file holds everything a run needs to continue exactly where it was:
//
//	"FMCKPT01"                 8 bytes
//	header length N            uint64 little-endian
//	header                     N bytes of JSON (ckptHeader)
//	P, E, M, V                 4 × n float32 little-endian (params, EMA, Adam moments)
//	CRC-32 (IEEE)              uint32 little-endian, of everything before it
//
// It is written with package outfile: to a temporary file in the same folder, synced,
// and renamed over the old one (a symlink's target, the link staying a link), so a
// crash at any moment leaves either the old or the new checkpoint. It must be a
// regular file: Config.Validate refuses a device or FIFO, which could not be read back.
const ckptMagic = "FMCKPT01"

type ckptHeader struct {
	Run     runKey  `json:"run"`
	Step    int     `json:"step"` // steps completed
	NParams int     `json:"n_params"`
	RNG     []byte  `json:"rng"`      // the data stream's PCG state
	LossEMA float64 `json:"loss_ema"` // smoothed loss so far
	Loss    float64 `json:"loss"`     // last step's loss
	Seconds float64 `json:"seconds"`  // training time so far
}

// runKey is what must match for a checkpoint to continue a run: everything that
// changes the arithmetic of training, but the number of steps. The output file, its
// dtype, the device and the logging do not matter either.
//
// Steps is recorded (the -steps of the run that wrote the checkpoint) but not compared:
// extending a run is common. A run resumed with the same -steps ends bit for bit where
// an uninterrupted one would; with another -steps the warmup and cosine schedule
// continues for the new total (recipe.Schedule), from the step the checkpoint holds.
type runKey struct {
	Data        string                `json:"data"`
	DataSHA256  string                `json:"data_sha256,omitempty"` // -data FILE: the file's contents
	Path        sampler.PathSpec      `json:"path"`
	Coupling    string                `json:"coupling"`
	OTGroup     int                   `json:"ot_group,omitempty"`
	Hidden      int                   `json:"hidden"`
	Layers      int                   `json:"layers"`
	Activation  string                `json:"activation"`
	Time        sampler.TimeEmbedding `json:"time"`
	Steps       int                   `json:"steps"` // not compared (sameRun)
	Batch       int                   `json:"batch"`
	LR          float64               `json:"lr"`
	Warmup      int                   `json:"warmup"`
	MinLRFrac   float64               `json:"min_lr_frac"`
	WeightDecay float64               `json:"wd"`
	Beta1       float64               `json:"beta1"`
	Beta2       float64               `json:"beta2"`
	AdamEps     float64               `json:"adam_eps"`
	Clip        float64               `json:"clip"`
	EMA         float64               `json:"ema"`
	Seed        uint64                `json:"seed"`
	Channels    int                   `json:"channels,omitempty"`   // image models only
	LabelDrop   float64               `json:"label_drop,omitempty"` // image models only
}

func keyOf(c *Config) runKey {
	g := 0
	if c.Coupling == CouplingOT {
		g = c.OTGroup
	}
	sum := ""
	if c.Own != nil {
		sum = c.Own.Info.Source.SHA256
	}
	k := runKey{c.Data, sum, c.Path, c.Coupling, g, c.Hidden, c.Layers, c.Activation, c.Time, c.Steps, c.Batch,
		c.LR, c.Warmup, c.MinLRFrac, c.WeightDecay, c.Beta1, c.Beta2, c.AdamEps, c.Clip, c.EMA, c.Seed, 0, 0}
	if c.Images() {
		// The MLP's settings do not apply; the U-Net's do.
		k.Hidden, k.Layers, k.Activation, k.Time = 0, 0, "", sampler.TimeEmbedding{}
		k.Channels, k.LabelDrop = c.Channels, c.LabelDrop
	}
	return k
}

// sameRun reports whether a checkpoint with key k can continue a run with key o.
func (k runKey) sameRun(o runKey) bool {
	k.Steps, o.Steps = 0, 0
	return k == o
}

// settings lists k as flags, in the order of runKey (the settings without a flag, such
// as Adam's β, by name). Steps is left out.
func (k runKey) settings() [][2]string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	d := strconv.Itoa
	freqs := ""
	if k.Time.Kind == sampler.TimeFourier {
		freqs = d(k.Time.Freqs)
	}
	group := ""
	if k.OTGroup != 0 {
		group = d(k.OTGroup)
	}
	return [][2]string{
		{"-data", k.Data},
		{"a data file of SHA-256", shortSum(k.DataSHA256)},
		{"-path", k.Path.Name},
		{"-sigma-min", f(k.Path.SigmaMin)},
		{"-sigma-max", f(k.Path.SigmaMax)},
		{"-beta-min", f(k.Path.BetaMin)},
		{"-beta-max", f(k.Path.BetaMax)},
		{"-eps", f(k.Path.Eps)},
		{"-coupling", k.Coupling},
		{"-ot-group", group},
		{"-hidden", d(k.Hidden)},
		{"-layers", d(k.Layers)},
		{"activation", k.Activation},
		{"-time", k.Time.Kind},
		{"-freqs", freqs},
		{"-batch", d(k.Batch)},
		{"-lr", f(k.LR)},
		{"-warmup", d(k.Warmup)},
		{"-min-lr", f(k.MinLRFrac)},
		{"-wd", f(k.WeightDecay)},
		{"Adam β1", f(k.Beta1)},
		{"Adam β2", f(k.Beta2)},
		{"Adam ε", f(k.AdamEps)},
		{"-clip", f(k.Clip)},
		{"-ema", f(k.EMA)},
		{"-seed", strconv.FormatUint(k.Seed, 10)},
		{"-channels", d(k.Channels)},
		{"-label-drop", f(k.LabelDrop)},
	}
}

// shortSum is the first 12 hex digits of a SHA-256, enough to tell two files apart in
// a message, or "(none)" for a run on a built-in dataset.
func shortSum(sum string) string {
	switch {
	case sum == "": // a built-in dataset: differs from any file, and -data says so too
		return "(none)"
	case len(sum) > 12:
		return sum[:12] + "…"
	}
	return sum
}

// diff names the settings in which a checkpoint's key k and the flags' key o differ,
// as "-hidden 128 -lr 0.002" (k's values) and "-hidden 256 -lr 0.001" (o's). A setting
// that one side does not use (-freqs with -time raw, -ot-group without -coupling ot)
// is left out: its own flag shows the difference.
func (k runKey) diff(o runKey) (was, now string) {
	a, b := k.settings(), o.settings()
	var wa, wb []string
	for i := range a {
		if a[i][1] == b[i][1] || a[i][1] == "" || b[i][1] == "" {
			continue
		}
		wa = append(wa, a[i][0]+" "+a[i][1])
		wb = append(wb, b[i][0]+" "+b[i][1])
	}
	return strings.Join(wa, " "), strings.Join(wb, " ")
}

type checkpoint struct {
	hdr        ckptHeader
	P, E, M, V []float32
}

func writeCheckpoint(path string, ck *checkpoint) (err error) {
	f, err := outfile.Create(path)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Abort() // a no-op after Commit
	if !f.Atomic() {
		return fmt.Errorf("checkpoint %s is not a regular file: a checkpoint must be a file that -resume can read back", path)
	}
	hdr, err := json.Marshal(ck.hdr)
	if err != nil {
		return err
	}
	crc := crc32.NewIEEE()
	w := bufio.NewWriterSize(io.MultiWriter(f, crc), 1<<20)
	w.WriteString(ckptMagic)
	binary.Write(w, binary.LittleEndian, uint64(len(hdr)))
	w.Write(hdr)
	buf := make([]byte, 4*len(ck.P))
	for _, a := range [][]float32{ck.P, ck.E, ck.M, ck.V} {
		for i, v := range a {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		w.Write(buf)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := binary.Write(f, binary.LittleEndian, crc.Sum32()); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := f.Commit(); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// errNoCheckpoint is returned by readCheckpoint when the file does not exist.
var errNoCheckpoint = errors.New("no checkpoint")

func readCheckpoint(path string) (*checkpoint, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, errNoCheckpoint
	}
	if err != nil {
		return nil, err
	}
	bad := func(msg string) error { return fmt.Errorf("checkpoint %s: %s", path, msg) }
	if len(data) < len(ckptMagic)+8+4 || string(data[:len(ckptMagic)]) != ckptMagic {
		return nil, bad("not a flowmatch checkpoint")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, bad("checksum mismatch (truncated or corrupt)")
	}
	r := body[len(ckptMagic):]
	hl := binary.LittleEndian.Uint64(r)
	r = r[8:]
	if hl > uint64(len(r)) {
		return nil, bad("header length beyond the file")
	}
	ck := &checkpoint{}
	dec := json.NewDecoder(bytes.NewReader(r[:hl]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ck.hdr); err != nil {
		return nil, bad("header: " + err.Error())
	}
	r = r[hl:]
	n := ck.hdr.NParams
	if n <= 0 || len(r) != 4*4*n {
		return nil, bad(fmt.Sprintf("%d bytes of parameters, want 4×%d float32", len(r), n))
	}
	arrs := make([][]float32, 4)
	for k := range arrs {
		a := make([]float32, n)
		for i := range a {
			a[i] = math.Float32frombits(binary.LittleEndian.Uint32(r[4*(k*n+i):]))
		}
		arrs[k] = a
	}
	ck.P, ck.E, ck.M, ck.V = arrs[0], arrs[1], arrs[2], arrs[3]
	return ck, nil
}
