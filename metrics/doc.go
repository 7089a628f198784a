// Package metrics measures how close a set of generated points is to a set
// of data points. It is pure Go and runs natively and under js/wasm.
//
// Point sets are []float32 in row-major order with d coordinates per point,
// the layout the sampler and the dataset package use; all arithmetic is in
// float64.
//
//   - [W2] is the 2-Wasserstein distance between two equal-size sets: the
//     root mean squared distance under the optimal one-to-one matching,
//     found exactly by [Assign], a Jonker–Volgenant linear assignment solver
//     (2,000 points in about a second natively). It takes at most [MaxN]
//     points: its n×n cost matrix and its up-to-n³ time bound the size.
//   - [W2Floor] estimates the W2 between two independent draws from the same
//     distribution at a given size; finite samples never reach zero, so
//     "W2 / floor" is the scale-free figure to report.
//   - [W2IIDFloor] estimates what an ideal model scores instead: W2 between n
//     points resampled i.i.d. from a large draw and a fresh draw. It matters for
//     datasets that put a fixed number of points in each mode, whose draws
//     balance exactly where any independent sampler's do not.
//   - [MMD] (biased V-statistic) and [MMDUnbiased] (U-statistic) give the
//     squared maximum mean discrepancy under Gaussian RBF kernels, one value
//     per bandwidth.
//   - [FrechetDistance] compares the Gaussians with two sets' means and covariances
//     ([NewMoments]): FID's formula, in whatever features the sets hold (an image
//     classifier's, for image models).
//
// Functions return errors, never panic, on bad input: empty or ragged sets,
// sizes that do not match, NaN or infinite values, and more points than exact
// assignment can take ([ErrTooLarge]).
package metrics
