// Package report builds the paths-and-solvers comparison for a folder of models:
// a quality table for every model, W2 against NFE for every solver and path,
// trajectories of OT, VP and VE from the same noise, and the learned density beside the
// true one. For image models (arch unet) it adds an image section, judged by the
// folder's classifier (package eval's Judge): the classifier's accuracy and the Fréchet
// distance in its features against NFE for guidance 0, 1 and 2 beside the real-data
// floor, a 10,000-sample headline at 20 NFE with issue 14's goals, the samples of
// pytorch_fmnist.py's reference judged in the same run, and grids of samples at each NFE
// (package imagegrid). It writes PNG plots (gonum/plot) and a markdown page that links
// them; `make results` runs it over the shipped models into results/.
package report
