package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/flowmatch/flowmatch/unet"
	"github.com/flowmatch/flowmatch/weights"
)

// unetJSON is what inspect -json adds for a U-Net: what its configuration costs.
type unetJSON struct {
	MACs         int64 `json:"macs_per_sample"`       // one sample's forward pass
	Float16Bytes int   `json:"float16_bytes"`         // the tensors' values as float16
	Levels       []int `json:"level_sides,omitempty"` // each level's height (the input's, halved)
}

func newUNetJSON(c unet.Config) *unetJSON {
	u := &unetJSON{MACs: c.MACs(), Float16Bytes: c.Float16Bytes()}
	for i := range c.Mult {
		u.Levels = append(u.Levels, c.Shape[1]>>i)
	}
	return u
}

// printUNet is inspect's description of a U-Net: its levels, blocks, embeddings, and
// what it costs to run and to ship.
func printUNet(row func(k, format string, a ...any), c unet.Config, params int) {
	row("model", "U-Net (arch unet), %s parameters", commas(params))
	var levels []string
	for i, m := range c.Mult {
		levels = append(levels, fmt.Sprintf("%d×%d × %d", c.Shape[1]>>i, c.Shape[2]>>i, c.Channels*m))
	}
	row("  levels", "%d: %s channels (C %d, mult %v)", len(c.Mult), strings.Join(levels, ", "), c.Channels, c.Mult)
	row("  blocks", "%d residual %s a level down and up, and one in the middle; GroupNorm(%d), SiLU",
		c.Blocks, plural(c.Blocks, "block", "blocks"), c.Groups)
	row("  embedding", "%d sinusoidal time features → %d; %d classes and the null class (classifier-free guidance)",
		c.TimeFeatures, c.Emb, c.Classes)
	macs := c.MACs()
	row("  cost", "%s multiply-adds a sample's forward pass (%s M), %s M a guided evaluation (both halves)",
		commas(int(macs)), megas(macs), megas(2*macs))
	row("  float16", "%s bytes (%.2f MB)", commas(c.Float16Bytes()), float64(c.Float16Bytes())/1e6)
}

// megas writes n in millions, one decimal.
func megas(n int64) string { return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) }

// printImageData is inspect's description of image data: the shape, how the network's
// values map to intensities, and the classes.
func printImageData(row func(k, format string, a ...any), d weights.DataInfo) {
	if len(d.Shape) > 0 {
		what := ""
		if len(d.Shape) == 3 {
			what = " (channels × height × width)"
		}
		row("  shape", "%s%s", shapeString(d.Shape), what)
	}
	if d.IsImage() {
		row("  pixels", "network value %g is black (intensity 0), %g white (1)", d.Pixels[0], d.Pixels[1])
	}
	if len(d.Classes) > 0 {
		row("  classes", "%s", oneLineValue(listClasses(d.Classes)))
	}
}
