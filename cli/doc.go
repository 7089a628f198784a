// Package cli is the frame of the flowmatch command: subcommands, their flags, and
// the exit codes users and scripts rely on.
//
// Exit codes: 0 success; 1 the work failed (a message says why); 2 a usage error (an
// unknown subcommand, a bad flag or flag value, a file that is not what it claims).
// Every error is one line on stderr, never a stack trace.
//
// The pure-Go subcommands are listed by [Commands]. The train module builds the same
// binary with its cgo-only `train` subcommand added, so bin/flowmatch has them all.
package cli
