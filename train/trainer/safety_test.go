package trainer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/flowmatch/flowmatch/cli"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/train/internal/tt"
	"github.com/flowmatch/flowmatch/weights"
)

func isUsage(err error) bool {
	var ue *cli.UsageError
	return errors.As(err, &ue)
}

// -o naming a symlink writes the link's target and keeps the link; so does a symlinked
// checkpoint, which is still replaced atomically (a new file renamed into place).
func TestOutputAndCheckpointSymlinks(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	os.Mkdir(store, 0o755)
	cfg := small(t, 60)
	cfg.Out = filepath.Join(dir, "m.safetensors")
	cfg.Ckpt = filepath.Join(dir, "c.ckpt")
	cfg.CkptEvery = 20
	cfg.KeepCkpt = true
	if err := os.Symlink(filepath.Join("store", "model.safetensors"), cfg.Out); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(store, "run.ckpt"), cfg.Ckpt); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), cfg, Options{NoVerify: true, StopAfter: 30}); !errors.Is(err, ErrStopped) {
		t.Fatalf("StopAfter: %v", err)
	}
	isLink := func(p string) {
		t.Helper()
		if fi, err := os.Lstat(p); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("%s is no longer a symlink (%v, %v)", p, fi.Mode(), err)
		}
	}
	isLink(cfg.Ckpt)
	ck, err := readCheckpoint(filepath.Join(store, "run.ckpt"))
	if err != nil || ck.hdr.Step != 20 {
		t.Fatalf("the link's target holds no step-20 checkpoint: %v", err)
	}
	// Held open, the old file keeps its inode, which the new one then cannot reuse.
	old, err := os.Open(filepath.Join(store, "run.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	before, _ := old.Stat()
	cfg.Resume = true
	if _, err := Run(context.Background(), cfg, Options{NoVerify: true}); err != nil {
		t.Fatal(err)
	}
	isLink(cfg.Out)
	isLink(cfg.Ckpt)
	if _, err := weights.ReadFile(filepath.Join(store, "model.safetensors")); err != nil {
		t.Fatalf("the -o link's target: %v", err)
	}
	after, _ := os.Stat(filepath.Join(store, "run.ckpt"))
	if after == nil || os.SameFile(before, after) {
		t.Errorf("the kept checkpoint was not replaced by a new file (atomic rename)")
	}
	if ck, err := readCheckpoint(cfg.Ckpt); err != nil || ck.hdr.Step != 60 {
		t.Errorf("kept checkpoint: %v", err)
	}
	entries, _ := os.ReadDir(store)
	if len(entries) != 2 {
		t.Errorf("store holds %v: temporary or lock files left", entries)
	}
}

// A checkpoint is never written to a device or FIFO (it could not be read back), and a
// model written to one is written through it, which stays what it was; with
// -ckpt-every 0 such a run keeps no checkpoint and needs none. (A FIFO in a temporary
// folder stands for /dev/null or /dev/stdout, which a broken build run as root would
// replace with a regular file.)
func TestNonRegularOutputs(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	isFIFO := func() {
		t.Helper()
		if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
			t.Fatalf("the FIFO was replaced: %v %v", fi.Mode(), err)
		}
	}
	cfg := small(t, 20)
	cfg.Ckpt, cfg.CkptEvery = fifo, 10
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "-ckpt "+fifo+" is not a regular file") {
		t.Errorf("-ckpt FIFO: %v", err)
	}
	cfg = small(t, 20)
	cfg.Out, cfg.CkptEvery = fifo, 10
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "-ckpt FILE, or -ckpt-every 0") {
		t.Errorf("-o FIFO with checkpoints beside it: %v", err)
	}
	// A reader that is there at once, so that opening the FIFO for writing does not block.
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	ck := &checkpoint{hdr: ckptHeader{NParams: 1}, P: []float32{1}, E: []float32{1}, M: []float32{0}, V: []float32{0}}
	err = writeCheckpoint(fifo, ck)
	r.Close()
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("checkpoint to a FIFO: %v", err)
	}
	isFIFO()

	// The model goes through the FIFO to its reader, and is verified from the bytes.
	got := make(chan []byte, 1)
	go func() {
		f, err := os.Open(fifo) // blocks until the run opens it for writing
		if err != nil {
			got <- nil
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- b
	}()
	cfg = small(t, 20)
	cfg.Out, cfg.CkptEvery = fifo, 0
	res, err := Run(context.Background(), cfg, Options{})
	if err != nil {
		// Unblock the reader if the run never opened the FIFO.
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		t.Fatalf("-o FIFO -ckpt-every 0: %v", err)
	}
	isFIFO()
	if res.VerifyScale == 0 {
		t.Error("the model written to a FIFO was not verified")
	}
	if _, err := weights.DecodeBytes(<-got); err != nil {
		t.Fatalf("what came out of the FIFO: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(fifo)); len(entries) != 1 {
		t.Errorf("left beside the FIFO: %v", entries)
	}
}

// A fresh run refuses to overwrite the checkpoint of an interrupted one: it names
// -resume and -restart, and leaves the checkpoint as it was; -restart discards it.
func TestFreshRunKeepsOldCheckpoint(t *testing.T) {
	cfg := small(t, 100)
	cfg.CkptEvery = 20
	if _, err := Run(context.Background(), cfg, Options{NoVerify: true, StopAfter: 50}); !errors.Is(err, ErrStopped) {
		t.Fatal(err)
	}
	old, err := os.ReadFile(cfg.CkptPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, every := range []int{20, 0} { // -ckpt-every 0 would still write one on Ctrl-C
		cfg.CkptEvery = every
		_, err = Run(context.Background(), cfg, Options{NoVerify: true})
		if !isUsage(err) || !strings.Contains(err.Error(), "step 40 of 100") || !strings.Contains(err.Error(), "-resume") ||
			!strings.Contains(err.Error(), "-restart") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("-ckpt-every %d: fresh run over a checkpoint: err = %v", every, err)
		}
		if now, _ := os.ReadFile(cfg.CkptPath()); !bytes.Equal(now, old) {
			t.Fatalf("the refused run changed the checkpoint")
		}
	}
	if _, err := os.Stat(cfg.Out); err == nil {
		t.Fatal("the refused run wrote the model")
	}
	cfg.CkptEvery = 20
	cfg.Restart = true
	res, err := Run(context.Background(), cfg, Options{NoVerify: true})
	if err != nil || res.StartStep != 0 {
		t.Fatalf("-restart: %v", err)
	}
	if _, err := os.Stat(cfg.CkptPath()); err == nil {
		t.Error("checkpoint left after the restarted run finished")
	}
	cfg.Resume = true
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "-resume and -restart") {
		t.Errorf("-resume -restart: %v", err)
	}
	// Something that is no checkpoint is not overwritten either.
	cfg = small(t, 20)
	os.WriteFile(cfg.CkptPath(), []byte("my notes"), 0o644)
	if _, err := Run(context.Background(), cfg, Options{NoVerify: true}); !isUsage(err) || !strings.Contains(err.Error(), "not a flowmatch checkpoint") {
		t.Fatalf("file in the checkpoint's place: %v", err)
	}
	cfg.Resume = true
	if _, err := Run(context.Background(), cfg, Options{NoVerify: true}); !isUsage(err) || !strings.Contains(err.Error(), "cannot resume") {
		t.Fatalf("-resume from a file that is no checkpoint: %v", err)
	}
}

// A run resumed with a larger -steps continues (extending a run is common) with the
// schedule of the new total; a -steps below the checkpoint's step is refused.
func TestResumeWithOtherSteps(t *testing.T) {
	cfg := small(t, 100)
	cfg.CkptEvery = 25
	if _, err := Run(context.Background(), cfg, Options{NoVerify: true, StopAfter: 60}); !errors.Is(err, ErrStopped) {
		t.Fatal(err)
	}
	cfg.Resume = true
	cfg.Steps = 40
	if _, err := Run(context.Background(), cfg, Options{NoVerify: true}); !isUsage(err) || !strings.Contains(err.Error(), "past -steps 40") {
		t.Fatalf("resume at step 50 with -steps 40: %v", err)
	}
	cfg.Steps = 150
	res, err := Run(context.Background(), cfg, Options{NoVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.StartStep != 50 || res.Steps != 150 {
		t.Fatalf("resumed at %d for %d steps, want 50 and 150", res.StartStep, res.Steps)
	}
	f, err := weights.ReadFile(cfg.Out)
	if err != nil || f.Meta.Provenance.Steps != 150 {
		t.Fatalf("provenance steps: %v", err)
	}
}

// Every setting of the run key but Steps makes checkpoints incompatible and is named
// in the message, with both values: a field added to runKey without a flag name in
// settings fails here.
func TestRunKeyDiffNamesEveryField(t *testing.T) {
	cfg := Default()
	cfg.Coupling, cfg.Time = CouplingOT, sampler.TimeEmbedding{Kind: sampler.TimeFourier, Freqs: 4}
	base := keyOf(&cfg)
	var walk func(v reflect.Value, name string)
	walk = func(v reflect.Value, name string) {
		if v.Kind() == reflect.Struct {
			for i := 0; i < v.NumField(); i++ {
				walk(v.Field(i), name+"."+v.Type().Field(i).Name)
			}
			return
		}
		k := base
		f := reflect.ValueOf(&k).Elem()
		for _, part := range strings.Split(name, ".")[1:] {
			f = f.FieldByName(part)
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString(f.String() + "x")
		case reflect.Int:
			f.SetInt(f.Int() + 1)
		case reflect.Uint64:
			f.SetUint(f.Uint() + 1)
		case reflect.Float64:
			f.SetFloat(f.Float() + 0.5)
		default:
			t.Fatalf("%s: kind %v", name, f.Kind())
		}
		was, now := base.diff(k)
		if name == ".Steps" {
			if !base.sameRun(k) || was != "" {
				t.Errorf("Steps makes checkpoints incompatible (%q)", was)
			}
			return
		}
		if base.sameRun(k) || was == "" || now == "" || was == now {
			t.Errorf("%s: sameRun %v, diff %q / %q", name, base.sameRun(k), was, now)
		}
	}
	walk(reflect.ValueOf(base), "")
	was, now := base.diff(base)
	if was != "" || now != "" {
		t.Errorf("diff of a key with itself: %q %q", was, now)
	}
}

// A failed libtorch allocation is an error, not a crash in the next call that uses the
// missing buffer (a SIGSEGV during cgo execution).
func TestAllocationFailure(t *testing.T) {
	if b, err := os.ReadFile("/proc/sys/vm/overcommit_memory"); err != nil || strings.TrimSpace(string(b)) == "1" {
		t.Skip("the kernel grants any allocation (overcommit_memory 1), or says nothing")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	spec := sampler.MLPSpec{Dim: 2, Hidden: []int{256, 256}, Activation: "silu", Time: sampler.TimeEmbedding{Kind: "raw"}}
	e, err := newEngine(spec, 1<<40, tt.CPU) // 13 TB per input buffer
	if err == nil {
		e.free()
		t.Fatal("allocating terabytes succeeded")
	}
	if !strings.Contains(err.Error(), "allocating") || strings.Contains(err.Error(), "\n") {
		t.Errorf("err = %v", err)
	}
	t.Log(err)
	// The engine still works afterwards for a sane size.
	e, err = newEngine(spec, 8, tt.CPU)
	if err != nil {
		t.Fatal(err)
	}
	e.free()
}

// A run that needs more memory than the machine has is refused before anything is
// allocated, naming the flag and both figures.
func TestMemoryCheck(t *testing.T) {
	if _, ok := memAvailable(); !ok {
		t.Skip("no MemAvailable in /proc/meminfo")
	}
	cfg := small(t, 10)
	if err := checkMemory(&cfg, tt.CPU); err != nil {
		t.Fatalf("a small run: %v", err)
	}
	cfg.Batch = 200000000
	_, err := Run(context.Background(), cfg, Options{NoVerify: true})
	if !isUsage(err) || !strings.Contains(err.Error(), "-batch 200000000 needs about") || !strings.Contains(err.Error(), "available") {
		t.Fatalf("-batch 200000000: %v", err)
	}
	t.Log(err)
	cfg = small(t, 10)
	cfg.Hidden, cfg.Layers = 16384, 64
	if err := checkMemory(&cfg, tt.CPU); err == nil || !strings.Contains(err.Error(), "-hidden 16384 -layers 64 need about") {
		t.Fatalf("-hidden 16384 -layers 64: %v", err)
	}
	for b, want := range map[float64]string{950e6: "950 MB", 1.23e12: "1.2 TB", 20.4e9: "20 GB", 512: "512 B"} {
		if got := humanBytes(b); got != want {
			t.Errorf("humanBytes(%g) = %q, want %q", b, got, want)
		}
	}
}

// The divergence hint does not suggest -clip 1 when that is already the setting.
func TestDivergenceHint(t *testing.T) {
	for _, clip := range []float64{1, 0} {
		cfg := small(t, 200)
		cfg.LR, cfg.Clip, cfg.Warmup = 1e5, clip, 0
		_, err := Run(context.Background(), cfg, Options{NoVerify: true})
		if err == nil || !strings.Contains(err.Error(), "diverged") {
			t.Fatalf("-clip %g: err = %v, want a divergence", clip, err)
		}
		if suggests := strings.Contains(err.Error(), "-clip 1"); suggests != (clip == 0) {
			t.Errorf("-clip %g: %v", clip, err)
		}
		if !strings.Contains(err.Error(), "lower -lr") {
			t.Errorf("-clip %g: %v", clip, err)
		}
	}
}

// Two runs writing the same -o, even without checkpoints, cannot both go ahead: the
// second refuses at once, naming the file.
func TestOutputLock(t *testing.T) {
	cfg := small(t, 10)
	unlock, err := lockFile(cfg.Out, "-o")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), cfg, Options{NoVerify: true})
	unlock()
	if err == nil || !strings.Contains(err.Error(), "another run is writing "+cfg.Out) || !strings.Contains(err.Error(), "-o") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(cfg.Out); err == nil {
		t.Fatal("the refused run wrote the model")
	}
	// Through a symlink, the same file is the same lock.
	link := filepath.Join(t.TempDir(), "link.safetensors")
	os.Symlink(cfg.Out, link)
	unlock, err = lockFile(cfg.Out, "-o")
	if err != nil {
		t.Fatal(err)
	}
	c2 := cfg
	c2.Out = link
	_, err = Run(context.Background(), c2, Options{NoVerify: true})
	unlock()
	if err == nil || !strings.Contains(err.Error(), "another run") {
		t.Fatalf("through a symlink: err = %v", err)
	}
	if _, err := Run(context.Background(), cfg, Options{NoVerify: true}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(cfg.Out))
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}
