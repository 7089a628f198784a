package trainer

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/flowmatch/flowmatch/recipe"
	"github.com/flowmatch/flowmatch/train/internal/tt"
)

// memOverhead is what a run holds besides its buffers: libtorch's code and allocator,
// the Go runtime, the dataset tables. About 200 MB on CPU.
const memOverhead = 256 << 20

// memoryNeed estimates the bytes a run of c holds at once, split into the part that
// grows with -batch and the part that grows with the parameter count, on the device
// (libtorch's buffers, newEngine) and on the host (Go's batches: the prefetcher's three,
// the batcher's own arrays; checkpoint and export copies of the parameters). On CPU
// both live in the same memory. Counted in float64: a bad flag may overflow an int.
func memoryNeed(c *Config) (devBatch, devParams, hostBatch, hostParams float64) {
	const f32 = 4
	if c.Images() {
		return imageMemoryNeed(c)
	}
	spec := c.Spec()
	B := float64(c.Batch)
	in, d := float64(spec.InputDim()), float64(spec.Dim)
	var n, widths float64
	for _, sh := range spec.LayerShapes() {
		n += float64(sh[0])*float64(sh[1]) + float64(sh[0])
	}
	for _, h := range spec.Hidden {
		widths += float64(h)
	}
	// X, U, OUT, the output gradient, and H, A, GH, GA per hidden layer.
	devBatch = f32 * B * (in + 3*d + 4*widths)
	// P, G, M, V, E and a temporary.
	devParams = f32 * 6 * n
	// Prefetched batches (input and target rows, recipe.PrefetchDepth + 1 of them), the
	// batcher's x0, x1, re-paired x1 and x_t, dataset.Sample's fresh x1, and t in float64.
	hostBatch = f32*B*(float64(recipe.PrefetchDepth+1)*(in+d)+5*d) + 8*B
	// A checkpoint's four copies and its encoding buffer, the initial parameters.
	hostParams = f32 * 6 * n
	return
}

// checkMemory refuses a run that needs more memory than the machine has available,
// before anything is allocated, with a usage error naming the flags and the figures.
// On CPU it compares the whole estimate with MemAvailable (/proc/meminfo); on CUDA it
// compares the host part only (gotch exposes no free-memory query for the GPU; a
// failed GPU allocation is reported by newEngine). No figure, no check.
func checkMemory(c *Config, dev tt.Device) error {
	avail, ok := memAvailable()
	if !ok {
		return nil
	}
	devBatch, devParams, hostBatch, hostParams := memoryNeed(c)
	what := "memory"
	byBatch, byParams := hostBatch, hostParams
	if dev == tt.CPU {
		byBatch += devBatch
		byParams += devParams
	} else {
		what = "host memory"
		// The host copies of a batch and of the parameter vector (staging buffers).
		byBatch += 4 * float64(c.Batch) * float64(c.Spec().InputDim()+c.Spec().Dim)
		byParams += devParams / 6
	}
	need := byBatch + byParams + memOverhead
	if need <= float64(avail) {
		return nil
	}
	if byBatch >= byParams {
		return fmt.Errorf("-batch %d needs about %s of %s (with -hidden %d -layers %d); this machine has %s available: lower -batch",
			c.Batch, humanBytes(need), what, c.Hidden, c.Layers, humanBytes(float64(avail)))
	}
	return fmt.Errorf("-hidden %d -layers %d need about %s of %s for the parameters and optimiser state; this machine has %s available",
		c.Hidden, c.Layers, humanBytes(need), what, humanBytes(float64(avail)))
}

// memAvailable reads MemAvailable from /proc/meminfo, in bytes.
func memAvailable() (int64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemAvailable:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0, false
			}
			return kb << 10, true
		}
	}
	return 0, false
}

// humanBytes writes a byte count in decimal units: "950 MB", "1.2 TB", "20 GB".
func humanBytes(b float64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"}
	u := 0
	for b >= 1000 && u < len(units)-1 {
		b /= 1000
		u++
	}
	if b < 9.95 && u > 0 {
		return fmt.Sprintf("%.1f %s", b, units[u])
	}
	return fmt.Sprintf("%.0f %s", b, units[u])
}

// imageMemoryNeed is memoryNeed for a U-Net run. Autograd keeps about a dozen tensors
// the size of each block's output per sample (inputs of the GroupNorms, SiLUs and
// convolutions, and their gradients), so the batch part is counted from the block
// widths at each level's resolution.
func imageMemoryNeed(c *Config) (devBatch, devParams, hostBatch, hostParams float64) {
	const f32 = 4
	u := c.UNet()
	B, d, n := float64(c.Batch), float64(u.Dim()), float64(u.Params())
	var act float64
	hw := float64(u.Shape[1] * u.Shape[2])
	for i, m := range u.Mult {
		act += 12 * float64(u.Blocks+1) * float64(c.Channels*m) * hw / float64(int(1)<<(2*i))
	}
	devBatch = f32 * B * (2*act + 4*d)
	devParams = f32 * 6 * n
	hostBatch = f32*B*float64(recipe.PrefetchDepth+1)*(2*d+2) + f32*60000*d
	hostParams = f32 * 6 * n
	return
}
