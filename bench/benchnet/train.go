package benchnet

// TrainResult is one result line of the browser training benchmark (wasm/cmd/benchweb
// -train, read by bench/cmd/benchall as row (f)): a peer's training speed (What
// "train") or the quality of the Go worker's model files (What "train-quality").
type TrainResult struct {
	Peer      string  `json:"peer"`   // browser-go-worker or browser-tfjs-wasm
	Kernel    string  `json:"kernel"` // simd, or the TF.js version
	What      string  `json:"what"`
	Hidden    []int   `json:"hidden"`
	Batch     int     `json:"batch"`
	Steps     int     `json:"steps"`
	Seconds   float64 `json:"seconds"`
	StepsPerS float64 `json:"steps_per_s"`
	Loss      float64 `json:"loss"`
	// The quality line: seconds of Go's training to reach 1.3× and 2× the i.i.d. W2
	// floor on moons (−1: not reached), the best ratio with its step, and the floor.
	To13      float64 `json:"seconds_to_1_3x,omitempty"`
	To2       float64 `json:"seconds_to_2x,omitempty"`
	BestRatio float64 `json:"best_ratio,omitempty"`
	BestStep  int     `json:"best_step,omitempty"`
	Floor     float64 `json:"w2_floor,omitempty"`
}
