package cli

import (
	"bytes"
	"errors"
	"flag"
	"slices"
	"strings"
	"testing"
)

// run executes flowmatch with args in-process and returns the exit code and streams.
func run(cmds []Command, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(Env{Args: args, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}, cmds)
	return code, out.String(), errb.String()
}

func TestMainExitCodes(t *testing.T) {
	fail := Command{Name: "fail", Run: func(Env) error { return errors.New("disk full\nsecond line") }}
	usage := Command{Name: "usage", Run: func(Env) error { return Usagef("-n must be positive, got %d", -3) }}
	cmds := append(Commands(), fail, usage)
	for _, c := range []struct {
		args           []string
		code           int
		stdout, stderr string // wanted in each; "" wants the stream empty
	}{
		{nil, 2, "", "commands:"},
		{[]string{"-h"}, 0, "commands:", ""},
		{[]string{"--help"}, 0, "commands:", ""},
		{[]string{"help"}, 0, "commands:", ""},
		{[]string{"help", "-h"}, 0, "commands:", ""},
		{[]string{"help", "sample"}, 0, "usage: flowmatch sample -model FILE", ""},
		{[]string{"help", "inspect"}, 0, "usage: flowmatch inspect", ""},
		{[]string{"help", "nope"}, 2, "", `unknown command "nope"`},
		{[]string{"help", "sample", "inspect"}, 2, "", "want at most one command name"},
		{[]string{"nope"}, 2, "", `unknown command "nope"`},
		{[]string{"version"}, 0, "flowmatch ", ""},
		{[]string{"version", "-h"}, 0, "usage: flowmatch version", ""},
		{[]string{"version", "-bogus"}, 2, "", "flag provided but not defined: -bogus"},
		{[]string{"version", "extra"}, 2, "", "takes no arguments"},
		{[]string{"fail"}, 1, "", "flowmatch fail: disk full; second line\n"},
		{[]string{"usage"}, 2, "", "flowmatch usage: -n must be positive, got -3\n"},
	} {
		code, stdout, stderr := run(cmds, c.args...)
		if code != c.code || !contains(stdout, c.stdout) || !contains(stderr, c.stderr) {
			t.Errorf("flowmatch %v: exit %d, stdout %q, stderr %q; want %d, %q and %q", c.args, code, stdout, stderr, c.code, c.stdout, c.stderr)
		}
		if c.code != 0 && c.args != nil && strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("flowmatch %v: error is not one line: %q", c.args, stderr)
		}
	}
}

// contains is strings.Contains, except that an empty want wants s empty.
func contains(s, want string) bool {
	if want == "" {
		return s == ""
	}
	return strings.Contains(s, want)
}

// TestTrainAbsent checks that the pure-Go binary answers train with how to get it, and
// that a binary with a train command (the train module's) runs that one.
func TestTrainAbsent(t *testing.T) {
	for _, args := range [][]string{{"train"}, {"train", "-steps", "10"}, {"help", "train"}} {
		code, stdout, stderr := run(Commands(), args...)
		if code != 2 || stdout != "" || !strings.HasPrefix(stderr, "flowmatch train: ") ||
			!strings.Contains(stderr, "libtorch") || !strings.Contains(stderr, "make build") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("flowmatch %v: exit %d, stdout %q, stderr %q; want 2 and one line pointing to make build", args, code, stdout, stderr)
		}
	}
	if _, stdout, _ := run(Commands(), "-h"); !strings.Contains(stdout, "train") || !strings.Contains(stdout, "make build") {
		t.Errorf("the command list does not say where train is: %q", stdout)
	}

	var got []string
	train := Command{Name: "train", Summary: "train for real", Run: func(env Env) error {
		fs := NewFlagSet(env, "train", "[-steps N]")
		fs.Int("steps", 1, "steps")
		if err := Parse(fs, env.Args); err != nil {
			return err
		}
		got = env.Args
		return nil
	}}
	cmds := append(Commands(), train)
	if code, _, stderr := run(cmds, "train", "-steps", "10"); code != 0 || len(got) != 2 {
		t.Errorf("registered train: exit %d, stderr %q, ran with %v", code, stderr, got)
	}
	if code, stdout, _ := run(cmds, "help", "train"); code != 0 || !strings.Contains(stdout, "usage: flowmatch train [-steps N]") {
		t.Errorf("help train with train registered: exit %d, stdout %q", code, stdout)
	}
	if _, stdout, _ := run(cmds, "-h"); !strings.Contains(stdout, "train for real") || strings.Contains(stdout, "make build") {
		t.Errorf("the command list with train registered: %q", stdout)
	}
}

func TestParseInterspersed(t *testing.T) {
	for _, c := range []struct {
		args []string
		json bool
		n    int
		pos  []string
	}{
		{[]string{"a", "b"}, false, 0, []string{"a", "b"}},
		{[]string{"-json", "a"}, true, 0, []string{"a"}},
		{[]string{"a", "-json"}, true, 0, []string{"a"}},
		{[]string{"a", "-n", "3", "b", "-json"}, true, 3, []string{"a", "b"}},
		{[]string{"a", "--", "-json", "b"}, false, 0, []string{"a", "-json", "b"}},
		{[]string{"-n", "2", "--", "-n"}, false, 2, []string{"-n"}},
		{[]string{"-", "-json"}, true, 0, []string{"-"}},
		{nil, false, 0, nil},
	} {
		var out bytes.Buffer
		fs := NewFlagSet(Env{Stdout: &out, Stderr: &out}, "x", "")
		js := fs.Bool("json", false, "")
		n := fs.Int("n", 0, "")
		if err := Parse(fs, c.args); err != nil {
			t.Errorf("%v: %v", c.args, err)
			continue
		}
		if *js != c.json || *n != c.n || !slices.Equal(fs.Args(), c.pos) || out.Len() != 0 {
			t.Errorf("%v: json %v, n %d, args %q, output %q; want %v, %d, %q", c.args, *js, *n, fs.Args(), out.String(), c.json, c.n, c.pos)
		}
	}
	// Errors after a positional argument are usage errors too, and print nothing.
	var out bytes.Buffer
	fs := NewFlagSet(Env{Stdout: &out, Stderr: &out}, "x", "")
	err := Parse(fs, []string{"a", "-bogus"})
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "-bogus") || out.Len() != 0 {
		t.Errorf("a -bogus: %v, output %q", err, out.String())
	}
	// -h after a positional argument prints the help on stdout.
	var stdout, stderr bytes.Buffer
	fs = NewFlagSet(Env{Stdout: &stdout, Stderr: &stderr}, "x", "FILE")
	if err := Parse(fs, []string{"a", "-h"}); !errors.Is(err, flag.ErrHelp) || !strings.Contains(stdout.String(), "usage: flowmatch x FILE") || stderr.Len() != 0 {
		t.Errorf("a -h: %v, stdout %q, stderr %q", err, stdout.String(), stderr.String())
	}
}
