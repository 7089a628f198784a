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
// The network's layers run on one gemm kernel per build ([KernelName]): AVX2 assembly
// on amd64, scalar WebAssembly under js/wasm, and, in js/wasm builds with Go 1.27 and
// GOEXPERIMENT=simd, WebAssembly SIMD (kernel_simd.go, kernel_simd_wasm.s), all
// bit-identical to the pure-Go kernel.
package sampler
