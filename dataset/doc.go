// Package dataset generates the eight standard 2D toy distributions of
// FFJORD (Grathwohl, Chen et al., 2019; lib/toy_data.py in
// github.com/rtqichen/ffjord), with the same shapes, scales and noise, in
// pure Go for native and js/wasm builds:
//
//	2spirals      two interleaved spirals of 540°, uniform jitter, N(0, 0.1²) noise
//	8gaussians    eight N(c, 0.5²) blobs at radius 4 (axes and diagonals), all ÷ 1.414
//	checkerboard  the eight dark squares of a 4×4 board on [−4, 4]², uniform
//	circles       scikit-learn make_circles(factor 0.5, noise 0.08), × 3: radii 3 and 1.5
//	moons         scikit-learn make_moons(noise 0.1), × 2 + (−1, −0.2)
//	pinwheel      five arms, radial σ 0.3, tangential σ 0.1, twist 0.25, × 2
//	rings         four circles of radii 3, 2.25, 1.5, 0.75, N(0, 0.08²) noise
//	swissroll     scikit-learn make_swiss_roll(noise 1.0), x and z columns ÷ 5
//
// Every dataset fits in about [−4.5, 4.5]².
//
// [Sample] returns n points as n×2 row-major []float32 (x0, y0, x1, y1, ...),
// drawn from a caller's *math/rand/v2.Rand, so a seed fixes the result.
// Random numbers come from Go's generators, not NumPy's: the same seed does
// not give FFJORD's points, only points from the same distribution.
//
// Where FFJORD's code returns a different number of points than asked
// (pinwheel returns 5·⌊n/5⌋, 2spirals 2·⌊n/2⌋), Sample returns exactly n,
// spreading the remainder over the first classes; and where FFJORD leaves
// the rows in blocks (2spirals), Sample shuffles them, so that any prefix
// of a sample is a fair sample. Like scikit-learn and FFJORD, moons,
// circles and rings place their points at evenly spaced angles before the
// noise: a batch of n covers each curve evenly (stratified), it is not
// n independent draws.
package dataset
