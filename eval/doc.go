// Package eval measures how good a trained model is: W2 against fresh data by exact
// optimal assignment beside two floors at the same n, RBF-kernel MMD at several
// bandwidths, and the mean negative log-likelihood of fresh data in nats, through the
// continuity equation with the exact 2D divergence.
//
// The two floors: the data-vs-data floor is the W2 between two fresh data draws; the
// i.i.d. floor is the W2 between points resampled i.i.d. from a large data draw and a
// fresh draw, what a model indistinguishable from the data scores. They differ on
// datasets that draw a fixed number of points per mode (see metrics.W2IIDFloor), where
// W2 / i.i.d. floor is the figure that can reach 1.
//
// W2 is exact, so n is at most MaxN (metrics.MaxN): the matching needs an n×n matrix and
// up to n³ time. A sampling solve that diverges is a DivergedError, not a NaN figure.
//
// Image models are judged differently (EvaluateImages): a classifier (package
// classifier) scores SampleImages' samples for each guidance weight, by its accuracy
// against the classes they were drawn for and by the Fréchet distance between their
// penultimate features and the test set's, beside the floor of as many real training
// images; JudgeImages scores samples from elsewhere (.npy files) the same way.
//
// Evaluate does one model with one solver; report.Sweep runs a model over solvers and
// NFE budgets, which is what the paths-and-solvers comparison (make results) is made of.
package eval
