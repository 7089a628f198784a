package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowmatch/flowmatch/weights"
)

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "flowmatch-cli-test")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "flowmatch")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), o.String(), e.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, o.String(), e.String()
}

// Every bad flag is rejected with exit status 2 and one line, before any work.
func TestBadFlags(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.safetensors")
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o555)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown dataset", []string{"-data", "spirals3", "-o", out}, "unknown dataset"},
		{"unknown path", []string{"-path", "sde", "-o", out}, "unknown path"},
		{"zero steps", []string{"-steps", "0", "-o", out}, "-steps must be positive"},
		{"negative steps", []string{"-steps", "-5", "-o", out}, "-steps must be positive"},
		{"missing output folder", []string{"-o", filepath.Join(dir, "nope", "m.safetensors")}, "cannot write -o"},
		{"output is a folder", []string{"-o", dir}, "cannot write -o"},
		{"no -o", []string{"-steps", "10"}, "-o is required"},
		{"unknown flag", []string{"-stepz", "10", "-o", out}, "flag provided but not defined"},
		{"bad number", []string{"-steps", "many", "-o", out}, "invalid value"},
		{"bad coupling", []string{"-coupling", "sinkhorn", "-o", out}, "unknown coupling"},
		{"bad dtype", []string{"-dtype", "f8", "-o", out}, "unknown -dtype"},
		{"bad device", []string{"-device", "tpu", "-o", out}, "unknown -device"},
		{"bad lr", []string{"-lr", "-1", "-o", out}, "-lr must be positive"},
		{"bad batch", []string{"-batch", "0", "-o", out}, "-batch must be positive"},
		{"stray argument", []string{"-o", out, "moons"}, "unexpected argument"},
	}
	if os.Geteuid() != 0 { // root writes into read-only folders anyway
		cases = append(cases, struct {
			name string
			args []string
			want string
		}{"unwritable output", []string{"-o", filepath.Join(ro, "m.safetensors")}, "cannot write -o"})
	}
	for _, tc := range cases {
		start := time.Now()
		code, stdout, stderr := run(t, append([]string{"train"}, tc.args...)...)
		if code != 2 {
			t.Errorf("%s: exit %d, want 2 (stderr %q)", tc.name, code, stderr)
		}
		if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "flowmatch train: ") || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: stderr %q, want one line containing %q", tc.name, stderr, tc.want)
		}
		if stdout != "" {
			t.Errorf("%s: stdout %q", tc.name, stdout)
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("%s: took %v: the flags must be checked before any work", tc.name, el)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a rejected command wrote %s", out)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 { // just ro/
		t.Errorf("rejected commands left files: %v", entries)
	}
	if !cudaAvailable() {
		code, _, stderr := run(t, "train", "-device", "cuda", "-o", out)
		if code != 2 || !strings.Contains(stderr, "CUDA") {
			t.Errorf("-device cuda without CUDA: exit %d, %q", code, stderr)
		}
	}
}

func cudaAvailable() bool {
	_, err := os.Stat("/dev/nvidia0")
	return err == nil
}

// The full binary has the root module's subcommands and train.
func TestCommands(t *testing.T) {
	_, _, stderr := run(t, "-h")
	for _, c := range []string{"train", "version"} {
		if !strings.Contains(stderr, c) {
			t.Errorf("flowmatch -h does not list %q:\n%s", c, stderr)
		}
	}
	if code, _, stderr := run(t, "train", "-h"); code != 0 || !strings.Contains(stderr, "-resume") {
		t.Errorf("train -h: exit %d, %q", code, stderr)
	}
}

// A process killed with SIGKILL and run again with -resume ends with the same model
// as an uninterrupted run.
func TestKillAndResume(t *testing.T) {
	dir := t.TempDir()
	args := func(out string) []string {
		return []string{"train", "-data", "8gaussians", "-path", "ot", "-hidden", "64", "-layers", "2", "-batch", "256",
			"-steps", "3000", "-ckpt-every", "200", "-device", "cpu", "-o", out}
	}
	ref := filepath.Join(dir, "ref.safetensors")
	if code, _, stderr := run(t, args(ref)...); code != 0 {
		t.Fatalf("uninterrupted run: exit %d: %s", code, stderr)
	}
	out := filepath.Join(dir, "killed.safetensors")
	cmd := exec.Command(bin, args(out)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ckpt := out + ".ckpt"
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if fi, err := os.Stat(ckpt); err == nil && fi.Size() > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no checkpoint appeared")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(150 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if _, err := os.Stat(out); err == nil {
		t.Skip("the run finished before it could be killed")
	}
	code, stdout, stderr := run(t, append(args(out), "-resume")...)
	if code != 0 {
		t.Fatalf("resumed run: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "resuming") {
		t.Errorf("resumed run did not say it resumed: %s", stderr)
	}
	a, err := weights.ReadFile(ref)
	if err != nil {
		t.Fatal(err)
	}
	b, err := weights.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for k := range a.Tensors {
		for i, v := range a.Tensors[k].Data {
			if b.Tensors[k].Data[i] != v {
				t.Fatalf("%s[%d]: killed+resumed %v, uninterrupted %v", a.Tensors[k].Name, i, b.Tensors[k].Data[i], v)
			}
		}
	}
	if !strings.Contains(b.Meta.Provenance.Command, "-resume") {
		t.Errorf("provenance command %q", b.Meta.Provenance.Command)
	}
	t.Log(strings.TrimSpace(stdout))
}
