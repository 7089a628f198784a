// Package report builds the paths-and-solvers comparison for a folder of models:
// a quality table for every model, W2 against NFE for every solver and path,
// trajectories of OT, VP and VE from the same noise, and the learned density beside the
// true one. It writes PNG plots (gonum/plot) and a markdown page that links them;
// `make results` runs it over the shipped models into results/.
package report
