// Package cli is the frame of the flowmatch command: subcommands, their flags, and
// the exit codes users and scripts rely on.
//
// Exit codes: 0 success; 1 the work failed (a message says why); 2 a usage error (an
// unknown subcommand, a bad flag or flag value, a file that is not what it claims).
// Every error is one line on stderr, never a stack trace.
//
// Points in, points out: encode and loglik read a CSV of points in the data's units,
// one point a row and one coordinate a column (as many as the model's dimension), with
// an optional header such as the x0,x1,… that sample writes; -in - reads stdin. A cell
// that is not a finite float32, a row of the wrong width, an empty file or a folder is a
// usage error that names the file, and the line and column at fault. Every output
// (CSV, or sample's PNG pictures chosen by a .png name) goes through package outfile.
//
// The pure-Go subcommands are listed by [Commands]. The train module builds the same
// binary with its cgo-only `train` subcommand added, so bin/flowmatch has them all.
package cli
