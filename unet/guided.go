package unet

// Guided is a [Net] conditioned on classes with classifier-free guidance, as a
// [sampler.Field]: v = (1+W)·v(x, t, c) − W·v(x, t, ∅), both halves evaluated in one
// batch of 2n (W = 0 evaluates the conditional half alone). Row i of x gets class
// Labels[i mod len(Labels)] (so Labels 0 … 9 gives sample i class i mod 10); a label may
// be the null class (Config.Null); no labels means every row is unconditional. A label
// out of range panics in Velocity: check them first with Config.CheckLabel.
type Guided struct {
	Net    *Net
	Labels []int
	W      float64

	ts  []float64
	lab []int
}

// Dim is the network's.
func (g *Guided) Dim() int { return g.Net.Dim() }

// Velocity writes the guided velocity of each row of x into dst.
func (g *Guided) Velocity(dst, x []float32, t float64) {
	d := g.Net.Dim()
	n := len(x) / d
	g.lab = fillInt(g.lab, n, g.Net.cfg.Null())
	if len(g.Labels) > 0 {
		for i := range n {
			g.lab[i] = g.Labels[i%len(g.Labels)]
		}
	}
	if g.W == 0 {
		g.ts = fill(g.ts, n, t)
		g.Net.Forward(dst, x, g.ts, g.lab)
		return
	}
	g.Net.guided(dst, x, t, g.lab, float32(g.W))
}
