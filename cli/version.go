package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

func versionCommand() Command {
	return Command{
		Name:    "version",
		Summary: "print the build's version and Go runtime",
		Run: func(env Env) error {
			fs := NewFlagSet(env, "version", "")
			if err := Parse(fs, env.Args); err != nil {
				return err
			}
			if fs.NArg() > 0 {
				return Usagef("version takes no arguments (got %q)", fs.Arg(0))
			}
			v := "(devel)"
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" {
						v = s.Value
					}
				}
			}
			fmt.Fprintf(env.Stdout, "flowmatch %s %s %s/%s\n", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
