// Package eval measures how good a trained model is: W2 against fresh data by exact
// optimal assignment beside the data-vs-data W2 floor at the same n, RBF-kernel MMD at
// several bandwidths, and the mean negative log-likelihood of fresh data in nats,
// through the continuity equation with the exact 2D divergence.
//
// Evaluate does one model with one solver; Sweep runs a model over solvers and NFE
// budgets, which is what the paths-and-solvers comparison (make results) is made of.
package eval
