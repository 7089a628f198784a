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
	"path/filepath"

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
// It is written to a temporary file in the same folder, synced, and renamed over the
// old one, so a crash at any moment leaves either the old or the new checkpoint.
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
// changes the arithmetic of training. The output file, its dtype, the device and the
// logging do not.
type runKey struct {
	Data        string                `json:"data"`
	Path        sampler.PathSpec      `json:"path"`
	Coupling    string                `json:"coupling"`
	OTGroup     int                   `json:"ot_group,omitempty"`
	Hidden      int                   `json:"hidden"`
	Layers      int                   `json:"layers"`
	Activation  string                `json:"activation"`
	Time        sampler.TimeEmbedding `json:"time"`
	Steps       int                   `json:"steps"`
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
}

func keyOf(c *Config) runKey {
	g := 0
	if c.Coupling == CouplingOT {
		g = c.OTGroup
	}
	return runKey{c.Data, c.Path, c.Coupling, g, c.Hidden, c.Layers, c.Activation, c.Time, c.Steps, c.Batch,
		c.LR, c.Warmup, c.MinLRFrac, c.WeightDecay, c.Beta1, c.Beta2, c.AdamEps, c.Clip, c.EMA, c.Seed}
}

type checkpoint struct {
	hdr        ckptHeader
	P, E, M, V []float32
}

func writeCheckpoint(path string, ck *checkpoint) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
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
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := binary.Write(f, binary.LittleEndian, crc.Sum32()); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
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
