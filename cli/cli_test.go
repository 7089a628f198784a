package cli

import (
	"bytes"
	"errors"
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
		args   []string
		code   int
		stderr string
	}{
		{nil, 2, "commands:"},
		{[]string{"-h"}, 0, "commands:"},
		{[]string{"nope"}, 2, `unknown command "nope"`},
		{[]string{"version"}, 0, ""},
		{[]string{"version", "-h"}, 0, "usage: flowmatch version"},
		{[]string{"version", "-bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"version", "extra"}, 2, "takes no arguments"},
		{[]string{"fail"}, 1, "flowmatch fail: disk full; second line\n"},
		{[]string{"usage"}, 2, "flowmatch usage: -n must be positive, got -3\n"},
	} {
		code, _, stderr := run(cmds, c.args...)
		if code != c.code || !strings.Contains(stderr, c.stderr) {
			t.Errorf("flowmatch %v: exit %d, stderr %q; want %d and %q", c.args, code, stderr, c.code, c.stderr)
		}
		if c.code != 0 && c.args != nil && strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("flowmatch %v: error is not one line: %q", c.args, stderr)
		}
	}
	if _, out, _ := run(cmds, "version"); !strings.HasPrefix(out, "flowmatch ") {
		t.Errorf("version printed %q", out)
	}
}
