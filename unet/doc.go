// Package unet is a class-conditional U-Net velocity field for images, in pure Go:
// the network of ../shared/bench/pytorch_fmnist.py generalised by a [Config], run with
// the sampler's matrix-product kernels ([sampler.MatMul]: AVX2 on amd64, WebAssembly
// SIMD in SIMD builds), and classifier-free guidance as a [sampler.Field] ([Guided]),
// so the sampler's solvers integrate it like the MLP (x is n × channels·height·width).
//
// # Network
//
// With ch_i = Channels·Mult[i] channels at level i (height and width halved i times)
// and E = Emb:
//
//	e    = t.2(SiLU(t.0(features(t)))) + y[label]         time MLP + class embedding
//	h    = inp(x)                                          conv 3×3, in → ch_0
//	down: level i: avg_pool2d(·, 2) when i > 0, then Blocks × Res(·, ch_i); keep h_i
//	mid  = Res(ch_last, ch_last)
//	up:   level i from the last: nearest ×2 when not the last, cat([·, h_i], 1),
//	      then Blocks × Res(·, ch_i) (the first takes the concatenated channels)
//	v    = out.2(SiLU(out.0(h)))                           GroupNorm, conv 3×3, ch_0 → in
//
//	Res(x) = c2(SiLU(n2(c1(SiLU(n1(x))) + e(e)[:, :, None, None]))) + sk(x)
//
// where n1, n2, out.0 are GroupNorm(min(Groups, channels), channels, eps 1e-5), c1, c2
// 3×3 convolutions with padding 1, e a Linear(E, ch), sk a 1×1 convolution when the
// channels change and the identity otherwise. features(t) are TimeFeatures sinusoids:
// with half = TimeFeatures/2 and φ_k = 1000·t·exp(−ln(10⁴)·k/half), [sin φ_0 … sin
// φ_{half−1}, cos φ_0 … cos φ_{half−1}]. y has Classes+1 rows; row Classes is the null
// class, the unconditional field.
//
// # Tensor names
//
// The tensors are named and shaped as the state_dict of the equivalent PyTorch module
// ([Config.Tensors] lists them in that order): t.0, t.2 (nn.Sequential(Linear, SiLU,
// Linear)), y (nn.Embedding), inp (Conv2d), the blocks down.{i}.{j}, mid and up.{i}.{j}
// (nn.ModuleList per level; i the level, j the block), each with n1, c1, e, n2, c2 and
// sk when ci ≠ co, and out.0, out.2 (nn.Sequential(GroupNorm, SiLU, Conv2d)), each with
// .weight and .bias in PyTorch's layouts (Conv2d [out, in, kh, kw], Linear [out, in]).
// pytorch_fmnist.py's module is [Default] (Blocks = 1) with its blocks renamed: d1, d2,
// d3 → down.0.0, down.1.0, down.2.0; mid → mid; u3, u2, u1 → up.2.0, up.1.0, up.0.0;
// t, y, inp and out keep their names. A trainer (gotch's VarStore paths, or a PyTorch
// export) that uses these names needs no mapping.
//
// # Layout and cost
//
// Inside, a batch is laid out for the sampler's gemm kernels ([sampler.Blocked]): the
// images stacked into one tall image with a zero column after each pixel row and a
// zero row after each image, so that every 3×3 neighbour is a fixed offset away and
// the convolution's zero padding is already there. A 3×3 convolution is then one
// product whose operand, the im2col rows of 24 consecutive positions, is nine
// contiguous copies per channel, written straight into the kernels' blocked layout a
// few groups at a time (multiplied while in cache, by weights packed once at [New]);
// its result stays blocked for GroupNorm, the skip sums and the 1×1 convolutions
// (products on it with no copy). The padding positions are computed too and never
// read: 7% more work at 28×28, 31% at 7×7 (see geom). GroupNorm writes SiLU of its
// output as per-channel planes for the im2col, four lanes at a time in WebAssembly
// SIMD builds (bit for bit the scalar code). A guided evaluation computes what its
// two halves share, up to the first block's embedding, once. [Config.MACs] counts one
// sample's multiply-adds: Default's is 23.6 M (a guided step evaluates 2n samples),
// 145,377 parameters (291 KB as float16).
package unet
