package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
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
// exiting and prints its help (usage line, then the flags) to env.Stdout on -h: help
// that was asked for is the command's output, not an error.
func NewFlagSet(env Env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stdout)
	fs.Usage = func() {
		fmt.Fprintf(env.Stdout, "usage: flowmatch %s %s\n\nflags:\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses args with fs, turning flag errors into usage errors. Flags may also
// follow the positional arguments (flowmatch inspect FILE -json), up to a "--";
// afterwards fs.Args() holds the positional arguments in order. It returns
// flag.ErrHelp after -h has printed the help.
func Parse(fs *flag.FlagSet, args []string) error {
	// The flag package prints its own error then the usage; keep only our one line.
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	restore := func() {
		fs.Usage = usage
		fs.SetOutput(out)
	}
	var pos []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			restore()
			usage()
			return err
		}
		if err != nil {
			restore()
			return &UsageError{err}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if k := len(args) - len(rest); k > 0 && args[k-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		// The flag package stops at the first argument that is not a flag: keep it and
		// parse what follows it.
		pos, args = append(pos, rest[0]), rest[1:]
	}
	// Leave the positional arguments where fs.Args() finds them.
	fs.Parse(append([]string{"--"}, pos...))
	restore()
	return nil
}

// Main runs the subcommand named by args[0] and returns the process exit code. Help
// that was asked for (-h, help, help CMD) goes to stdout with exit 0; no arguments at
// all print the help to stderr and exit 2, as a usage error does.
func Main(env Env, cmds []Command) int {
	cmds = slices.Clone(cmds)
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	if len(env.Args) == 0 {
		printHelp(env.Stderr, cmds)
		return 2
	}
	name, args := env.Args[0], env.Args[1:]
	if name == "help" {
		if len(args) > 1 {
			fmt.Fprintf(env.Stderr, "flowmatch help: want at most one command name, got %d arguments\n", len(args))
			return 2
		}
		if len(args) == 0 || isHelpFlag(args[0]) || args[0] == "help" {
			printHelp(env.Stdout, cmds)
			return 0
		}
		// flowmatch help CMD is flowmatch CMD -h.
		name, args = args[0], []string{"-h"}
	}
	if isHelpFlag(name) {
		printHelp(env.Stdout, cmds)
		return 0
	}
	i := slices.IndexFunc(cmds, func(c Command) bool { return c.Name == name })
	if i < 0 {
		// A command this binary was built without, such as train outside the libtorch
		// build, gets what to do instead of "unknown command".
		if a, ok := absentCommands[name]; ok {
			fmt.Fprintf(env.Stderr, "flowmatch %s: %s\n", name, a.hint)
			return 2
		}
		names := make([]string, len(cmds))
		for i, c := range cmds {
			names[i] = c.Name
		}
		fmt.Fprintf(env.Stderr, "flowmatch: unknown command %q (want one of: %s)\n", name, strings.Join(names, ", "))
		return 2
	}
	sub := env
	sub.Args = args
	err := cmds[i].Run(sub)
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

func isHelpFlag(s string) bool { return s == "-h" || s == "-help" || s == "--help" }

func oneLine(err error) string {
	return strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
}

func printHelp(w io.Writer, cmds []Command) {
	fmt.Fprintln(w, "flowmatch: flow matching for generative modeling, end to end in Go")
	fmt.Fprintln(w, "\nusage: flowmatch <command> [flags]   (flowmatch help <command> for its flags)")
	fmt.Fprintln(w, "\ncommands:")
	var absent []string
	for name := range absentCommands {
		if !slices.ContainsFunc(cmds, func(c Command) bool { return c.Name == name }) {
			absent = append(absent, name)
		}
	}
	sort.Strings(absent)
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-10s %s\n", c.Name, c.Summary)
	}
	for _, name := range absent {
		fmt.Fprintf(w, "  %-10s %s\n", name, absentCommands[name].summary)
	}
}
