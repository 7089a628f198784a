package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Env is what a subcommand may touch: its arguments and the standard streams.
type Env struct {
	Args   []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Command is one subcommand of flowmatch.
type Command struct {
	Name    string
	Summary string // one line for the command list
	Run     func(env Env) error
}

// UsageError marks an error as the user's: a bad flag, argument or input file. Main
// exits 2 for it.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a [UsageError] with a formatted message.
func Usagef(format string, a ...any) error {
	return &UsageError{fmt.Errorf(format, a...)}
}

// NewFlagSet returns a FlagSet for subcommand name that reports errors instead of
// exiting and prints its help (usage line, then the flags) to env.Stderr on -h.
func NewFlagSet(env Env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "usage: flowmatch %s %s\n\nflags:\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses env.Args with fs, turning flag errors into usage errors. It returns
// flag.ErrHelp after -h has printed the help.
func Parse(fs *flag.FlagSet, args []string) error {
	// The flag package prints its own error then the usage; keep only our one line.
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(out)
	if errors.Is(err, flag.ErrHelp) {
		usage()
		return err
	}
	if err != nil {
		return &UsageError{err}
	}
	return nil
}

// Main runs the subcommand named by args[0] and returns the process exit code.
func Main(env Env, cmds []Command) int {
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	if len(env.Args) == 0 || env.Args[0] == "-h" || env.Args[0] == "-help" || env.Args[0] == "--help" || env.Args[0] == "help" {
		printHelp(env.Stderr, cmds)
		if len(env.Args) == 0 {
			return 2
		}
		return 0
	}
	name := env.Args[0]
	for _, c := range cmds {
		if c.Name != name {
			continue
		}
		sub := env
		sub.Args = env.Args[1:]
		err := c.Run(sub)
		var ue *UsageError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(env.Stderr, "flowmatch %s: %s\n", name, oneLine(err))
			return 2
		default:
			fmt.Fprintf(env.Stderr, "flowmatch %s: %s\n", name, oneLine(err))
			return 1
		}
	}
	names := make([]string, len(cmds))
	for i, c := range cmds {
		names[i] = c.Name
	}
	fmt.Fprintf(env.Stderr, "flowmatch: unknown command %q (want one of: %s)\n", name, strings.Join(names, ", "))
	return 2
}

func oneLine(err error) string {
	return strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
}

func printHelp(w io.Writer, cmds []Command) {
	fmt.Fprintln(w, "flowmatch: flow matching for generative modeling, end to end in Go")
	fmt.Fprintln(w, "\nusage: flowmatch <command> [flags]   (flowmatch <command> -h for its flags)")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-10s %s\n", c.Name, c.Summary)
	}
}
