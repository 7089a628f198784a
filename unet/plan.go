package unet

import "fmt"

// Tensor is one tensor a network needs: its name and shape (PyTorch's layout).
type Tensor struct {
	Name  string
	Shape []int
}

// block is one residual block: its tensor name prefix, channels in and out, and the
// level it works at (the size is the input's over 2^level).
type block struct {
	name   string
	ci, co int
	level  int
}

// ch is level i's channel count.
func (c Config) ch(i int) int { return c.Channels * c.Mult[i] }

// blocks lists the residual blocks in the order the forward pass runs them: for each
// level i the down blocks down.{i}.{j}, then mid, then for each level from the deepest
// up the blocks up.{i}.{j}, whose first takes the level's skip concatenated after the
// path's channels. For Blocks = 1 and three levels these are pytorch_fmnist.py's d1, d2,
// d3, mid, u3, u2, u1.
func (c Config) blocks() []block {
	var bs []block
	prev := c.ch(0)
	for i := range c.Mult {
		for j := range c.Blocks {
			bs = append(bs, block{fmt.Sprintf("down.%d.%d", i, j), prev, c.ch(i), i})
			prev = c.ch(i)
		}
	}
	last := len(c.Mult) - 1
	bs = append(bs, block{"mid", prev, prev, last})
	for i := last; i >= 0; i-- {
		for j := range c.Blocks {
			ci := c.ch(i)
			if j == 0 {
				ci += prev
			}
			bs = append(bs, block{fmt.Sprintf("up.%d.%d", i, j), ci, c.ch(i), i})
			prev = c.ch(i)
		}
	}
	return bs
}

// Tensors lists every tensor of the network, with its shape, in the order of the
// state_dict of the equivalent PyTorch module (see the package doc): the time MLP t.0,
// t.2; the class embedding y; the input convolution inp; the blocks (n1, c1, e, n2, c2,
// and sk where the channels change); the output GroupNorm out.0 and convolution out.2.
// Only for a valid Config.
func (c Config) Tensors() []Tensor {
	in, E := c.Shape[0], c.Emb
	ts := []Tensor{
		{"t.0.weight", []int{E, c.TimeFeatures}}, {"t.0.bias", []int{E}},
		{"t.2.weight", []int{E, E}}, {"t.2.bias", []int{E}},
		{"y.weight", []int{c.Classes + 1, E}},
		{"inp.weight", []int{c.ch(0), in, 3, 3}}, {"inp.bias", []int{c.ch(0)}},
	}
	for _, b := range c.blocks() {
		p := b.name + "."
		ts = append(ts,
			Tensor{p + "n1.weight", []int{b.ci}}, Tensor{p + "n1.bias", []int{b.ci}},
			Tensor{p + "c1.weight", []int{b.co, b.ci, 3, 3}}, Tensor{p + "c1.bias", []int{b.co}},
			Tensor{p + "e.weight", []int{b.co, E}}, Tensor{p + "e.bias", []int{b.co}},
			Tensor{p + "n2.weight", []int{b.co}}, Tensor{p + "n2.bias", []int{b.co}},
			Tensor{p + "c2.weight", []int{b.co, b.co, 3, 3}}, Tensor{p + "c2.bias", []int{b.co}})
		if b.ci != b.co {
			ts = append(ts, Tensor{p + "sk.weight", []int{b.co, b.ci, 1, 1}}, Tensor{p + "sk.bias", []int{b.co}})
		}
	}
	return append(ts,
		Tensor{"out.0.weight", []int{c.ch(0)}}, Tensor{"out.0.bias", []int{c.ch(0)}},
		Tensor{"out.2.weight", []int{in, c.ch(0), 3, 3}}, Tensor{"out.2.bias", []int{in}})
}

// Params is the number of values in all the tensors. Only for a Config within the
// per-field limits.
func (c Config) Params() int {
	n := 0
	for _, t := range c.Tensors() {
		p := 1
		for _, d := range t.Shape {
			p *= d
		}
		n += p
	}
	return n
}

// Float16Bytes is the size of the tensors' values stored as float16.
func (c Config) Float16Bytes() int { return 2 * c.Params() }

// MACs is the number of multiply-adds of one sample's forward pass in the matrix
// products (convolutions and Linear layers); GroupNorm, SiLU, pooling and the time
// features add O(activations), not counted. A guided evaluation costs twice this.
func (c Config) MACs() int64 {
	hw := func(level int) int64 { return int64(c.Shape[1]>>level) * int64(c.Shape[2]>>level) }
	E, in := int64(c.Emb), int64(c.Shape[0])
	n := int64(c.TimeFeatures)*E + E*E
	n += hw(0) * 9 * in * int64(c.ch(0)) * 2 // inp and out.2
	for _, b := range c.blocks() {
		ci, co := int64(b.ci), int64(b.co)
		n += E*co + hw(b.level)*9*co*(ci+co)
		if ci != co {
			n += hw(b.level) * ci * co
		}
	}
	return n
}
