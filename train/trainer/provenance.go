package trainer

import "github.com/flowmatch/flowmatch/weights"

// provenanceCommand is the command line a model file records (provenance.command) for
// `flowmatch train` run with args (the arguments after "train"). Files get published,
// so it names no place on the training machine: the program is just "flowmatch", and
// every path is reduced to its base name, with no directories, home or temporary folders.
// Run from the folder that should receive the files, the command reproduces the model
// (the output's and checkpoint's folders do not change the training).
// weights.RecordedCommand says how.
func provenanceCommand(args []string) string {
	return weights.RecordedCommand("train", args)
}
