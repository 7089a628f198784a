package cli

// Commands returns the pure-Go subcommands. Each area adds its entry here.
func Commands() []Command {
	return []Command{
		encodeCommand(),
		evalCommand(),
		importCommand(),
		inspectCommand(),
		loglikCommand(),
		sampleCommand(),
		serveCommand(),
		reportCommand(),
		versionCommand(),
	}
}

// absentCommands are the commands some builds of flowmatch lack, with a line for the
// command list and what to do instead. Main uses an entry only when no command of that
// name is registered, so the train module's binary, which adds the real train, runs
// it.
var absentCommands = map[string]struct{ summary, hint string }{
	"train": {
		summary: "train a model on libtorch (not in this build: make build)",
		hint:    "not in this build: train needs cgo and libtorch; make build builds bin/flowmatch from the train module, with train",
	},
}
