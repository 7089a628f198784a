// Package recipe is flowmatch's training recipe in pure Go: everything about training
// a velocity network that is not the network's own arithmetic, so that every trainer
// (the libtorch one in the train module, a pure-Go one) draws the same batches and
// follows the same schedules. It builds for js/wasm and uses no cgo.
//
// # Data
//
// A run's batches come from one seeded stream ([NewStream]: a PCG on the run's seed
// and [StreamData]). [Batcher.Draw] takes, in this fixed order, Batch points x1 of the
// dataset (package dataset), Batch noise points x0 from the path's source
// N(0, s0² I) (sampler.Path.SourceStd), and Batch times t ~ U[0, TMax]; with the
// minibatch-OT coupling (OT-CFM, weights.CouplingOT) it then re-orders x1 so that,
// within each group of OTGroup consecutive rows, x0[i] goes with the x1 of an optimal
// assignment minimising Σ‖x0_i − x1_σ(i)‖² (Tong et al. 2023). [Batcher.Next] turns
// a draw into the regression pair of conditional flow matching: the network input
// rows [x_t, features(t)] ([Inputs]) and the targets u_t, with x_t and u_t from
// sampler.Interpolate ([Pairs.Targets]), the very function the sampler defines the
// paths with, so a trainer regresses on exactly the field the sampler integrates.
// [Batcher.State] and [Batcher.SetState] save and restore the stream for checkpoints,
// and [Batcher.Prefetch] draws batches ahead in a goroutine, in the same order and
// each with the stream's state after it.
//
// # Optimisation
//
// The loss is the mean squared error between the network's output and u_t ([MSE]).
// Each step s (0-based) clips the gradient's global norm ([GradNorm], [ClipScale]),
// takes an AdamW step ([AdamW]) at the learning rate of a linear warmup then cosine
// decay ([Schedule.At]), and moves an exponential moving average of the weights towards
// them ([EMAUpdate] with the ramped decay [EMADecay]); the average is what a trainer
// exports. The weights start from PyTorch's nn.Linear initialisation ([InitParams], on
// the stream [StreamInit]), in one flat vector, layer by layer, weight then bias
// ([Flatten], [Unflatten]). [SmoothLoss] is the loss a trainer reports.
//
// The float32 rules ([AdamW.Update], [EMAUpdate], [MSE]'s gradient) perform, element by
// element, the float32 operations of the libtorch trainer's CPU kernels in their
// order, with lerp's multiply-add fused as libtorch's AVX2 and AVX-512 kernels fuse it:
// given the same gradients they give the same bits (the train module's tests check
// it). What a pure-Go network computes (its matrix products, the gradient's norm, the
// loss's sum) rounds differently from libtorch's, so a pure-Go trainer follows the
// same recipe, not the same bits.
//
// Given a seed, a stream's batches are the same on every platform where package
// dataset's draws are (its tests pin a hash of them).
package recipe
