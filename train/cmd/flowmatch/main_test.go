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

// Every bad flag or value is rejected with exit status 2 and one line, before any work:
// no panic, no Go stack trace, no crash in cgo.
func TestBadFlags(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.safetensors")
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o555)
	// A FIFO stands for a device such as /dev/null, which a broken build run as root
	// would replace with a regular file.
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown dataset", []string{"-data", "spirals3", "-o", out}, "unknown dataset"},
		{"empty dataset", []string{"-data", "", "-o", out}, "unknown dataset"},
		{"unknown path", []string{"-path", "sde", "-o", out}, "unknown path"},
		{"zero steps", []string{"-steps", "0", "-o", out}, "-steps must be positive"},
		{"negative steps", []string{"-steps", "-5", "-o", out}, "-steps must be positive"},
		{"huge steps", []string{"-steps", "99999999999999999999", "-o", out}, "value out of range"},
		{"missing output folder", []string{"-o", filepath.Join(dir, "nope", "m.safetensors")}, "-o: cannot write"},
		{"output is a folder", []string{"-o", dir}, "-o: " + dir + " is a folder"},
		{"no -o", []string{"-steps", "10"}, "-o is required"},
		{"unknown flag", []string{"-stepz", "10", "-o", out}, "flag provided but not defined"},
		{"bad number", []string{"-steps", "many", "-o", out}, "invalid value"},
		{"bad coupling", []string{"-coupling", "sinkhorn", "-o", out}, "unknown coupling"},
		{"bad ot group", []string{"-coupling", "ot", "-ot-group", "0", "-o", out}, "-ot-group must be in"},
		{"bad dtype", []string{"-dtype", "f8", "-o", out}, "unknown -dtype"},
		{"bad device", []string{"-device", "tpu", "-o", out}, "unknown -device"},
		{"bad cuda index", []string{"-device", "cuda:x", "-o", out}, "unknown -device"},
		{"bad lr", []string{"-lr", "-1", "-o", out}, "-lr must be positive"},
		{"NaN lr", []string{"-lr", "NaN", "-o", out}, "-lr must be positive"},
		{"infinite lr", []string{"-lr", "Inf", "-o", out}, "-lr must be positive"},
		{"bad warmup", []string{"-warmup", "-1", "-o", out}, "-warmup must not be negative"},
		{"bad min-lr", []string{"-min-lr", "2", "-o", out}, "-min-lr must be in"},
		{"bad wd", []string{"-wd", "-1", "-o", out}, "-wd must not be negative"},
		{"bad clip", []string{"-clip", "-1", "-o", out}, "-clip must not be negative"},
		{"NaN clip", []string{"-clip", "NaN", "-o", out}, "-clip must not be negative"},
		{"bad ema", []string{"-ema", "1", "-o", out}, "-ema must be in"},
		{"bad seed", []string{"-seed", "-1", "-o", out}, "invalid value"},
		{"bad ckpt-every", []string{"-ckpt-every", "-1", "-o", out}, "-ckpt-every must not be negative"},
		{"bad batch", []string{"-batch", "0", "-o", out}, "-batch must be positive"},
		{"negative batch", []string{"-batch", "-3", "-o", out}, "-batch must be positive"},
		{"batch beyond memory", []string{"-batch", "200000000", "-o", out}, "-batch 200000000 needs about"},
		{"batch beyond int", []string{"-batch", "9223372036854775807", "-o", out}, "needs about"},
		{"network beyond memory", []string{"-hidden", "16384", "-layers", "64", "-o", out}, "-hidden 16384 -layers 64 need about"},
		{"zero hidden", []string{"-hidden", "0", "-o", out}, "-hidden must be positive"},
		{"wide hidden", []string{"-hidden", "16385", "-o", out}, "width 16385"},
		{"zero layers", []string{"-layers", "0", "-o", out}, "-layers must be positive"},
		{"negative layers", []string{"-layers", "-1", "-o", out}, "-layers must be positive"},
		{"deep layers", []string{"-layers", "1000000000", "-o", out}, "-layers must be at most 64"},
		{"bad time", []string{"-time", "wavelet", "-o", out}, "unknown -time"},
		{"freqs without fourier", []string{"-freqs", "5", "-o", out}, "-freqs needs -time fourier"},
		{"too many freqs", []string{"-time", "fourier", "-freqs", "1000", "-o", out}, "freqs 1000"},
		{"bad sigma-min", []string{"-sigma-min", "-1", "-o", out}, "sigma_min -1"},
		{"vp parameter on ot", []string{"-beta-max", "5", "-o", out}, "-beta-max applies to -path vp only"},
		{"ve parameter on vp", []string{"-path", "vp", "-sigma-max", "5", "-o", out}, "-sigma-max applies to -path ve only"},
		{"eps on ot", []string{"-eps", "0.01", "-o", out}, "-eps applies to -path vp and ve only"},
		{"bad eps", []string{"-path", "vp", "-eps", "2", "-o", out}, "eps 2"},
		{"checkpoint to a FIFO", []string{"-ckpt", fifo, "-o", out}, "-ckpt " + fifo + " is not a regular file"},
		{"checkpoint beside a FIFO", []string{"-o", fifo}, "-ckpt FILE, or -ckpt-every 0"},
		{"checkpoint is a folder", []string{"-ckpt", dir, "-o", out}, "-ckpt: " + dir + " is a folder"},
		{"checkpoint folder missing", []string{"-ckpt", filepath.Join(dir, "nope", "c"), "-o", out}, "-ckpt: cannot write"},
		{"checkpoint is the model", []string{"-ckpt", out, "-o", out}, "is the -o file"},
		{"resume and restart", []string{"-resume", "-restart", "-o", out}, "-resume and -restart"},
		{"stray argument", []string{"-o", out, "moons"}, "unexpected argument"},
	}
	if os.Geteuid() != 0 { // root writes into read-only folders anyway
		cases = append(cases, struct {
			name string
			args []string
			want string
		}{"unwritable output", []string{"-o", filepath.Join(ro, "m.safetensors")}, "-o: cannot write"})
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
		for _, crash := range []string{"panic", "goroutine", "SIGSEGV", "{"} {
			if strings.Contains(stderr, crash) {
				t.Errorf("%s: stderr %q holds %q", tc.name, stderr, crash)
			}
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

// What an earlier run left behind is never overwritten without being asked: a fresh run
// over its checkpoint, or over something else in the checkpoint's place, stops with one
// line (exit 2) naming -resume or -restart; so does a resume with other settings.
func TestCheckpointRefusals(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.safetensors")
	args := []string{"train", "-data", "8gaussians", "-hidden", "16", "-layers", "1", "-batch", "64", "-steps", "40", "-device", "cpu", "-o", out}
	ckpt := out + ".ckpt"
	os.WriteFile(ckpt, []byte("not mine"), 0o644)
	for _, tc := range []struct {
		extra []string
		want  string
	}{
		{nil, "pass -restart to replace it"},
		{[]string{"-resume"}, "cannot resume"},
	} {
		code, _, stderr := run(t, append(args, tc.extra...)...)
		if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v over a file that is no checkpoint: exit %d, %q", tc.extra, code, stderr)
		}
	}
	if b, _ := os.ReadFile(ckpt); string(b) != "not mine" {
		t.Fatalf("the file in the checkpoint's place was changed")
	}
	if code, _, stderr := run(t, append(args, "-restart", "-keep-ckpt")...); code != 0 {
		t.Fatalf("-restart: exit %d: %s", code, stderr)
	}
	// The kept checkpoint is a finished run's: a fresh run stops, a resume with another
	// -lr names it, a longer -steps extends it.
	code, _, stderr := run(t, args...)
	if code != 2 || !strings.Contains(stderr, "step 40 of 40") || !strings.Contains(stderr, "-resume") {
		t.Errorf("fresh run over a kept checkpoint: exit %d, %q", code, stderr)
	}
	code, _, stderr = run(t, append(args, "-resume", "-lr", "0.001")...)
	if code != 2 || !strings.Contains(stderr, "was made with -lr 0.002; these flags say -lr 0.001") {
		t.Errorf("resume with another -lr: exit %d, %q", code, stderr)
	}
	longer := append(append([]string(nil), args...), "-resume", "-steps", "60")
	if code, stdout, stderr := run(t, longer...); code != 0 || !strings.Contains(stdout, "60 steps") {
		t.Errorf("resume with a longer -steps: exit %d, %q %q", code, stdout, stderr)
	}
}

// A second run writing the same -o, without checkpoints, refuses at start with one line
// naming the file, while the first one runs.
func TestSameOutputTwice(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.safetensors")
	args := []string{"train", "-data", "8gaussians", "-hidden", "16", "-layers", "1", "-batch", "64", "-steps", "100000000",
		"-ckpt-every", "0", "-device", "cpu", "-o", out}
	first := exec.Command(bin, args...)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		first.Process.Signal(syscall.SIGKILL)
		first.Wait()
	}()
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(out + ".lock"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first run took no lock")
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, stdout, stderr := run(t, append(args[:len(args)-2:len(args)-2], "-steps", "5", "-o", out)...)
	if code == 0 || stdout != "" || strings.Count(strings.TrimSpace(stderr), "\n") != 0 ||
		!strings.Contains(stderr, "another run is writing "+out) {
		t.Errorf("second run on the same -o: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func cudaAvailable() bool {
	_, err := os.Stat("/dev/nvidia0")
	return err == nil
}

// The full binary has the root module's subcommands and train.
func TestCommands(t *testing.T) {
	_, stdout, _ := run(t, "-h") // help goes to stdout
	for _, c := range []string{"train", "version"} {
		if !strings.Contains(stdout, c) {
			t.Errorf("flowmatch -h does not list %q:\n%s", c, stdout)
		}
	}
	for _, flag := range []string{"-resume", "-restart"} {
		if code, stdout, _ := run(t, "train", "-h"); code != 0 || !strings.Contains(stdout, flag) {
			t.Errorf("train -h: exit %d, no %s in %q", code, flag, stdout)
		}
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
