package cli

// Commands returns the pure-Go subcommands. Each area adds its entry here.
func Commands() []Command {
	return []Command{
		evalCommand(),
		inspectCommand(),
		sampleCommand(),
		serveCommand(),
		reportCommand(),
		versionCommand(),
	}
}
