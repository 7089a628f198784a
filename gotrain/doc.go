// Package gotrain is flowmatch's trainer in pure Go: conditional flow matching of the
// MLP velocity network (sampler.MLPSpec) without libtorch or cgo, so that it runs in a
// browser (js/wasm, in a Web Worker) as well as natively (flowmatch train -engine go).
//
// It follows package recipe's recipe, the one the libtorch trainer follows: the same
// batches from the same seeded stream (recipe.NewStream: data, noise, times, the
// minibatch-OT pairing), the initial weights of PyTorch's nn.Linear
// (recipe.InitParams), the MSE loss, global-norm clipping (recipe.GradNorm,
// recipe.ClipScale), AdamW with linear warmup and cosine decay (recipe.AdamW,
// recipe.Schedule), and an EMA of the weights (recipe.EMAUpdate), which is what it
// exports. Given the same gradients its optimiser gives libtorch's bits; its gradients
// differ from libtorch autograd's only by float32 rounding (the train module's parity
// test checks both).
//
// The network's forward pass and its hand-written backward pass (per layer: the
// weight gradient gZᵀ·A, the bias gradient Σ gZ, and the input gradient gZ·W times
// SiLU'(z)) run on the sampler's gemm kernels through sampler.MatMul, with SiLU and
// SiLU' fused into the forward products and the chain rule's product into the
// backward ones. A step allocates nothing once the trainer is built.
package gotrain
