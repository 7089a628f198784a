package cli

import (
	"fmt"
	"os"

	"golang.org/x/term"

	"github.com/flowmatch/flowmatch/report"
)

func reportCommand() Command {
	return Command{
		Name:    "report",
		Summary: "evaluate a folder of models: quality table, W2-vs-NFE, trajectory and density plots",
		Run: func(env Env) error {
			fs := NewFlagSet(env, "report", "[-models DIR] [-o DIR]")
			models := fs.String("models", "weights", "folder of *.safetensors models")
			out := fs.String("o", "results", "output folder for README.md, results.json and the PNG plots")
			seed := fs.Uint64("seed", 0, "random seed")
			n := fs.Int("sweep-n", 1000, "points per run of the solver sweep")
			if err := Parse(fs, env.Args); err != nil {
				return err
			}
			if fs.NArg() > 0 {
				return Usagef("unexpected argument %q", fs.Arg(0))
			}
			if *n < 10 {
				return Usagef("-sweep-n must be at least 10 (got %d)", *n)
			}
			if st, err := os.Stat(*models); err != nil || !st.IsDir() {
				return Usagef("-models %s is not a folder", *models)
			}
			tty := false
			if f, ok := env.Stderr.(*os.File); ok {
				tty = term.IsTerminal(int(f.Fd()))
			}
			res, err := report.Run(report.Options{Models: *models, Out: *out, Seed: *seed, SweepN: *n,
				Progress: env.Stderr, Terminal: tty})
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "report: %d models evaluated; see %s/README.md\n", len(res.Models), *out)
			return nil
		},
	}
}
