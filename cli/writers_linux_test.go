package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sampleArgs are a small sample run; the output for them is compared byte for byte.
func sampleArgs(model, out string) []string {
	return []string{"sample", "-model", model, "-n", "50", "-solver", "heun", "-nfe", "8", "-seed", "3", "-o", out}
}

// mknod makes a character device node with the given numbers, whatever the umask.
func mknod(path string, major, minor int) error {
	if err := syscall.Mknod(path, syscall.S_IFCHR|0o666, major<<8|minor); err != nil {
		return err
	}
	return os.Chmod(path, 0o666)
}

// keepDevice puts path back as character device (1, minor) after the test, should a
// regression have replaced it with a file: as root, the old sample -o turned the
// machine's /dev/null into a CSV file, which breaks everything else running.
func keepDevice(t *testing.T, path string, minor int) {
	t.Cleanup(func() {
		if st, err := os.Lstat(path); os.Geteuid() == 0 && err == nil && st.Mode()&os.ModeCharDevice == 0 {
			os.Remove(path)
			mknod(path, 1, minor)
		}
	})
}

func isCharDevice(t *testing.T, path string) {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("%s is no longer a character device: %v %v", path, st.Mode(), err)
	}
}

// TestSampleWriters checks sample -o on what is not a plain new file: written through
// a device or FIFO, a symlink's target written and the link kept, a folder refused
// before any work.
func TestSampleWriters(t *testing.T) {
	dir := t.TempDir()
	model := testModel(t, dir)
	code, want, stderr := fmRun(sampleArgs(model, "-")...)
	if code != 0 || want == "" {
		t.Fatalf("sample to stdout: exit %d: %s", code, stderr)
	}

	t.Run("dev-null", func(t *testing.T) {
		keepDevice(t, "/dev/null", 3)
		if code, _, stderr := fmRun(sampleArgs(model, "/dev/null")...); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		isCharDevice(t, "/dev/null")
	})
	t.Run("dev-full", func(t *testing.T) {
		keepDevice(t, "/dev/full", 7)
		code, _, stderr := fmRun(sampleArgs(model, "/dev/full")...)
		if code != 1 || !strings.Contains(stderr, "writing /dev/full: no space left on device") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("exit %d, stderr %q; want 1 and one line about no space", code, stderr)
		}
		isCharDevice(t, "/dev/full")
	})
	t.Run("mknod", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("making a device node needs root")
		}
		// A null device of our own, so that no shared device is at stake.
		sub := t.TempDir()
		dev := filepath.Join(sub, "null")
		if err := mknod(dev, 1, 3); err != nil {
			t.Skipf("mknod: %v", err)
		}
		if w, err := os.OpenFile(dev, os.O_WRONLY, 0); err != nil {
			t.Skipf("cannot open a device node here (nodev?): %v", err)
		} else {
			w.Close()
		}
		if code, _, stderr := fmRun(sampleArgs(model, dev)...); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		isCharDevice(t, dev)
		if entries, _ := os.ReadDir(sub); len(entries) != 1 {
			t.Errorf("folder holds %v, want the device alone", entries)
		}
	})
	t.Run("symlink", func(t *testing.T) {
		sub := t.TempDir()
		target := filepath.Join(sub, "real.csv")
		if err := os.WriteFile(target, []byte("old\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(sub, "link.csv")
		if err := os.Symlink("real.csv", link); err != nil {
			t.Fatal(err)
		}
		if code, _, stderr := fmRun(sampleArgs(model, link)...); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("the link was replaced: %v %v", st.Mode(), err)
		}
		if b, _ := os.ReadFile(target); string(b) != want {
			t.Errorf("the link's target holds %q, want the samples", b)
		}
		if st, _ := os.Stat(target); st.Mode().Perm() != 0o600 {
			t.Errorf("the target's mode is %v, want its own 0600 kept", st.Mode().Perm())
		}
	})
	t.Run("fifo", func(t *testing.T) {
		fifo := filepath.Join(t.TempDir(), "pipe")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		got := make(chan []byte, 1)
		go func() {
			b, _ := os.ReadFile(fifo)
			got <- b
		}()
		if code, _, stderr := fmRun(sampleArgs(model, fifo)...); code != 0 {
			// Let the reader go.
			if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
				w.Close()
			}
			t.Fatalf("exit %d: %s", code, stderr)
		}
		select {
		case b := <-got:
			if string(b) != want {
				t.Errorf("the reader got %d bytes, want the %d of the samples", len(b), len(want))
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the reader got nothing in 10 s")
		}
		if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
			t.Errorf("the FIFO was replaced: %v %v", st.Mode(), err)
		}
	})
	t.Run("folder", func(t *testing.T) {
		sub := t.TempDir()
		// No model at all: the error must be about -o, found before the model is read.
		code, stdout, stderr := fmRun("sample", "-model", filepath.Join(sub, "missing.safetensors"), "-o", sub)
		if code != 2 || !strings.HasPrefix(stderr, "flowmatch sample: -o: ") || !strings.Contains(stderr, "is a folder") || strings.Count(stderr, "\n") != 1 || stdout != "" {
			t.Errorf("exit %d, stderr %q; want 2 and one line saying -o is a folder", code, stderr)
		}
		if entries, _ := os.ReadDir(sub); len(entries) != 0 {
			t.Errorf("folder holds %v after a refused run", entries)
		}
	})
}
