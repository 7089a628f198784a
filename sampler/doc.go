// Package sampler is the pure-Go inference core of flowmatch: probability paths,
// the velocity network's forward pass, ODE solvers and log-likelihoods.
//
// # Conventions
//
// Time runs from t = 0 (source noise) to t = 1 (data), as in Lipman et al.
// Every path is affine in a noise draw x0 and a data point x1:
//
//	x_t = A(t)·x1 + B(t)·x0        (the conditional flow ψ_t(x0) = σ_t x0 + μ_t)
//	u_t = A'(t)·x1 + B'(t)·x0      (its time derivative, the regression target)
//
// Batches are float32, row-major, n×d: point i occupies x[i*d : (i+1)*d].
// Times and path coefficients are float64. Nothing in this package uses cgo, so the
// same code runs natively and compiled to WebAssembly.
//
// The pieces:
//   - [Path] (OT, VP, VE) gives A, B and their derivatives and the time range on which
//     the path is well defined; [PathSpec] describes one in a file or on a command line.
//   - [MLP] is the velocity network v_θ(x, t); [MLPSpec] describes its shape.
//   - [Solve] integrates dx/dt = v(x, t) with Euler, Midpoint, Heun, RK4 or Dopri5,
//     counting network evaluations (NFE).
//   - [LogLikelihood] integrates the continuity equation backwards from t = 1.
//   - [GaussianTarget] is the exact marginal velocity field for Gaussian data, used to
//     test everything above against closed forms.
//
// The network's layers run on one gemm kernel per build ([KernelName]): assembly on
// amd64 (AVX-512 where the CPU has AVX-512 F and VL, else AVX2 and FMA), scalar WebAssembly under js/wasm, and, in builds with Go 1.27 and
// GOEXPERIMENT=simd, WebAssembly SIMD under js/wasm (kernel_simd.go,
// kernel_simd_wasm.s) and NEON on arm64 (simd/archsimd); amd64 has an archsimd kernel
// too, behind the build tag gosimd since it runs at about half the assembly's speed.
// The kernels of one architecture give bit-identical results; they differ only in
// speed.
//
// [MatMul] and [Blocked] lend that kernel to other code: a row-major or blocked matrix
// product with an optional bias and fused activation, which the pure-Go trainer
// (package gotrain) runs its forward and backward passes on.
package sampler
