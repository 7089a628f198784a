// Command flowmatch is the full flowmatch command: the pure-Go subcommands of the root
// module's cli package plus `train`, which needs cgo and libtorch (gotch). `make build`
// puts it in bin/flowmatch.
package main

import (
	"os"

	"github.com/flowmatch/flowmatch/cli"
	"github.com/flowmatch/flowmatch/train/trainer"
)

func main() {
	env := cli.Env{Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	os.Exit(cli.Main(env, append(cli.Commands(), trainer.Command())))
}
