// Package progress is the progress bar of every long flowmatch command (sample, eval,
// report): count, rate and ETA on a terminal, silence elsewhere.
package progress
