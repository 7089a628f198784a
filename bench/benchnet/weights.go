package benchnet

import (
	"fmt"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// WeightsFile converts the benchmark network into the project's model file (weights/
// FORMAT.md), for peers that read that format (the browser's Web Workers): the same
// parameters in float32, SiLU, one raw time feature (the network's input is x then t,
// as here), the OT path on [0, 1] and no data normalisation, so that positions are the
// network's own space. Write it with weights.WriteFile(path, f, weights.F32) to keep
// the parameters exact.
func (m *Model) WeightsFile() (*weights.File, error) {
	meta := weights.Meta{
		Model: sampler.MLPSpec{
			Dim:        m.Dim,
			Hidden:     append([]int(nil), m.Hidden...),
			Activation: sampler.ActSiLU,
			Time:       sampler.TimeEmbedding{Kind: sampler.TimeRaw},
		},
		Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: "ot"}, TMin: 0, TMax: 1},
		Data: weights.DataInfo{Name: "", Dim: m.Dim},
		Provenance: weights.Provenance{
			Notes: map[string]string{"benchnet": fmt.Sprintf("random benchmark network, %d×%v, not trained", m.Dim, m.Hidden)},
		},
	}
	return weights.NewFile(meta, m.Weights, m.Biases)
}
