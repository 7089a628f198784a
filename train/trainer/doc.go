// Package trainer trains flowmatch velocity networks natively with libtorch, through
// gotch, and exports them in the weights format for the pure-Go sampler.
//
// # What it trains
//
// The conditional flow matching loss E‖v_θ(x_t, t) − u_t‖² on a probability path of the
// sampler package (OT, VP or VE), with x1 from one of the dataset package's toys and x0
// from the path's source N(0, s0² I), paired independently (I-CFM) or by an optimal
// assignment within groups of each batch (OT-CFM). The batches, x_t, u_t and the time
// features are computed in Go by the sampler package's own functions, so the trainer
// regresses on exactly the field the sampler integrates.
//
// The network is the sampler's MLP (SiLU), initialised like PyTorch's nn.Linear
// (U(±1/√fan_in) for weights and biases; gotch's default is N(0, 1)), trained with
// AdamW, linear warmup then cosine decay, global gradient-norm clipping, and an EMA of
// the weights, which is what gets exported.
//
// That recipe, everything but the network's arithmetic, is the root module's package
// recipe (pure Go): the seeded data stream with its OT pairing and prefetching, the
// schedules, the initialisation, and the float32 rules of AdamW and the EMA, which
// recipe performs bit for bit as this package's libtorch kernels do. A trainer without
// libtorch shares it.
//
// # How
//
// Every tensor the loop touches is allocated once: parameters, gradients, Adam moments
// and the EMA are flat vectors, activations live in per-layer buffers, and each step is
// a fixed sequence of libtorch out= kernels (fused addmm for each Linear, silu, a
// hand-written backward of three products per layer, AdamW and the EMA on whole flat
// vectors), called through the thin internal/tt layer rather than gotch's tensor API,
// which allocates a Go object, a C++ handle and a leaked malloc per call. A step creates
// no tensors, so memory stays flat however long the run, and there is no autograd graph
// or interpreter overhead: on CPU it runs faster than the same loop in PyTorch eager.
//
// On CPU a run is deterministic: the same seed and flags give the same file, bit for
// bit, and a run resumed from a checkpoint (-resume) with the same flags ends exactly
// where an uninterrupted one would. Checkpoints hold the parameters, EMA, Adam moments,
// step and the data stream's RNG state, and are written atomically (package outfile; a
// checkpoint must be a regular file). A resume may change -steps, to extend a run or
// end it sooner (not before the checkpoint's step): the warmup and cosine schedule then
// continues for the new total from the checkpoint's step, so the result is no longer
// that of any uninterrupted run. Any other setting that changes the arithmetic must
// match; the refusal names the flags that differ. A run without -resume never
// overwrites an earlier run's checkpoint: it stops, naming -resume and -restart
// (discard the checkpoint and start over).
//
// Before any allocation a run estimates the memory it needs (batch × widths and the
// parameters × optimiser state) and refuses what the machine cannot hold; a failed
// libtorch allocation is an error, never a nil tensor passed on. A run holds a lock on
// its output file and its checkpoint (FILE.lock beside each), so a second run on either
// stops at once.
//
// After training, Run writes the file, reads it back, and checks that the pure-Go
// sampler's network computes the same velocities as libtorch's with the file's values.
package trainer
