package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPointsWriters checks the outputs of encode, loglik and sample's pictures and
// trajectories on what is not a plain new file, as TestSampleWriters does for sample's
// CSV: a device or FIFO written through, a symlink's target written and the link kept,
// /dev/full failing in one line.
func TestPointsWriters(t *testing.T) {
	dir := t.TempDir()
	model := testModel(t, dir)
	pts := filepath.Join(dir, "pts.csv")
	os.WriteFile(pts, []byte("x0,x1\n1,2\n-3,0.5\n"), 0o644)
	runs := []struct {
		name string
		args func(out string) []string
	}{
		{"encode", func(out string) []string { return []string{"encode", "-model", model, "-in", pts, "-o", out} }},
		{"loglik", func(out string) []string { return []string{"loglik", "-model", model, "-in", pts, "-o", out} }},
		{"sample-png", func(out string) []string {
			return []string{"sample", "-model", model, "-n", "50", "-size", "120", "-o", out, "-trajectories", filepath.Join(t.TempDir(), "t.png")}
		}},
		{"trajectories-csv", func(out string) []string {
			return []string{"sample", "-model", model, "-n", "5", "-o", filepath.Join(t.TempDir(), "s.csv"), "-trajectories", out}
		}},
		{"trajectories-png", func(out string) []string {
			return []string{"sample", "-model", model, "-n", "5", "-size", "120", "-o", filepath.Join(t.TempDir(), "s.csv"), "-trajectories", out}
		}},
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			// What a plain file gets, to compare with what the others get.
			ext := ".csv"
			if strings.HasSuffix(r.name, "png") {
				ext = ".png"
			}
			plain := filepath.Join(t.TempDir(), "plain"+ext)
			if code, _, stderr := fmRun(r.args(plain)...); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			want, _ := os.ReadFile(plain)
			if len(want) == 0 {
				t.Fatal("empty output")
			}

			// A picture is chosen by its name: a device gets one through a link named .png.
			device := func(path string) string {
				if ext != ".png" {
					return path
				}
				link := filepath.Join(t.TempDir(), filepath.Base(path)+".png")
				if err := os.Symlink(path, link); err != nil {
					t.Fatal(err)
				}
				return link
			}
			keepDevice(t, "/dev/null", 3)
			if code, _, stderr := fmRun(r.args(device("/dev/null"))...); code != 0 {
				t.Errorf("/dev/null: exit %d: %s", code, stderr)
			}
			isCharDevice(t, "/dev/null")

			keepDevice(t, "/dev/full", 7)
			code, stdout, stderr := fmRun(r.args(device("/dev/full"))...)
			if code != 1 || !strings.Contains(stderr, "no space left on device") || strings.Count(stderr, "\n") != 1 || stdout != "" {
				t.Errorf("/dev/full: exit %d, stderr %q; want 1 and one line about no space", code, stderr)
			}
			isCharDevice(t, "/dev/full")

			sub := t.TempDir()
			target := filepath.Join(sub, "real"+ext)
			os.WriteFile(target, []byte("old\n"), 0o600)
			link := filepath.Join(sub, "link"+ext)
			if err := os.Symlink("real"+ext, link); err != nil {
				t.Fatal(err)
			}
			if code, _, stderr := fmRun(r.args(link)...); code != 0 {
				t.Fatalf("symlink: exit %d: %s", code, stderr)
			}
			if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
				t.Errorf("the link was replaced: %v", err)
			}
			if b, _ := os.ReadFile(target); !bytes.Equal(b, want) {
				t.Errorf("the link's target holds %d bytes, want the %d of a plain run", len(b), len(want))
			}
			if st, _ := os.Stat(target); st.Mode().Perm() != 0o600 {
				t.Errorf("the target's mode is %v, want its own 0600 kept", st.Mode().Perm())
			}

			fifo := filepath.Join(sub, "pipe"+ext)
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			got := make(chan []byte, 1)
			go func() {
				b, _ := os.ReadFile(fifo)
				got <- b
			}()
			if code, _, stderr := fmRun(r.args(fifo)...); code != 0 {
				if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
					w.Close()
				}
				t.Fatalf("fifo: exit %d: %s", code, stderr)
			}
			select {
			case b := <-got:
				if !bytes.Equal(b, want) {
					t.Errorf("the FIFO's reader got %d bytes, want the %d of a plain run", len(b), len(want))
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the FIFO's reader got nothing in 10 s")
			}
			if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
				t.Errorf("the FIFO was replaced: %v", err)
			}
			if entries, _ := os.ReadDir(sub); len(entries) != 3 {
				t.Errorf("folder holds %v, want the target, the link and the FIFO", entries)
			}
		})
	}
}
