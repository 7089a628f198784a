// Command flowmatch samples, inspects, evaluates and serves flow matching models in
// pure Go. `flowmatch -h` lists the subcommands. The train module builds the same
// command with `train` added (make build puts that one in bin/flowmatch); this one
// answers `flowmatch train` with that pointer.
package main

import (
	"os"

	"github.com/flowmatch/flowmatch/cli"
)

func main() {
	env := cli.Env{Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	os.Exit(cli.Main(env, cli.Commands()))
}
