package outfile_test

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowmatch/flowmatch/outfile"
)

func write(t *testing.T, path, s string) error {
	t.Helper()
	return outfile.WriteFile(path, []byte(s))
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noTemps fails if a temporary file was left in dir.
func noTemps(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") || strings.Contains(e.Name(), "write-test") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestRegularNewAndReplace(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.csv")
	if err := write(t, p, "one"); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if got := read(t, p); got != "one" || st.Mode().Perm() != 0o644 {
		t.Fatalf("new file: %q mode %v, want \"one\" 0644", got, st.Mode().Perm())
	}
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := write(t, p, "two"); err != nil {
		t.Fatal(err)
	}
	st, _ = os.Stat(p)
	if got := read(t, p); got != "two" || st.Mode().Perm() != 0o600 {
		t.Fatalf("replaced file: %q mode %v, want \"two\" and its old mode 0600", got, st.Mode().Perm())
	}
	noTemps(t, dir)
}

func TestAbortKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.csv")
	write(t, p, "old")
	f, err := outfile.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Atomic() {
		t.Fatal("a regular file should be written atomically")
	}
	io.WriteString(f, "half of the new")
	if got := read(t, p); got != "old" {
		t.Fatalf("before Commit the target reads %q, want the old content", got)
	}
	f.Abort()
	f.Abort() // twice is fine
	if got := read(t, p); got != "old" {
		t.Fatalf("after Abort the target reads %q, want the old content", got)
	}
	noTemps(t, dir)
}

func TestSymlinkFollowed(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "sub", "real.csv")
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	write(t, real, "old")
	link := filepath.Join(dir, "link.csv")
	if err := os.Symlink("sub/real.csv", link); err != nil {
		t.Fatal(err)
	}
	if err := write(t, link, "new"); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Lstat(link); st.Mode()&fs.ModeSymlink == 0 {
		t.Fatal("the symlink was replaced by a file")
	}
	if got := read(t, real); got != "new" {
		t.Fatalf("link target reads %q, want \"new\"", got)
	}
	// A dangling link creates the file it names.
	dangling := filepath.Join(dir, "dangling.csv")
	os.Symlink(filepath.Join(dir, "sub", "made.csv"), dangling)
	if err := write(t, dangling, "made"); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "sub", "made.csv")); got != "made" {
		t.Fatalf("dangling link's target reads %q", got)
	}
	noTemps(t, dir)
	noTemps(t, filepath.Join(dir, "sub"))
}

func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	loop := filepath.Join(dir, "loop")
	os.Symlink("loop", loop)
	file := filepath.Join(dir, "file")
	write(t, file, "x")
	for _, c := range []struct{ path, want string }{
		{dir, "is a folder"},
		{filepath.Join(dir, "missing", "out.csv"), "does not exist"},
		{filepath.Join(file, "out.csv"), "is not a folder"},
		{loop, "too many levels"},
		{"", "empty"},
	} {
		for name, fn := range map[string]func(string) error{
			"Check":  outfile.Check,
			"Create": func(p string) error { _, err := outfile.Create(p); return err },
		} {
			err := fn(c.path)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s(%q) = %v, want an error saying %q", name, c.path, err, c.want)
			}
		}
	}
	if st, _ := os.Stat(dir); !st.IsDir() {
		t.Fatal("the folder was touched")
	}
	noTemps(t, dir)
}

func TestDevicesWrittenThrough(t *testing.T) {
	for _, dev := range []string{"/dev/null", "/dev/full", "/dev/stdout", "/dev/stderr"} {
		before, err := os.Stat(dev)
		if err != nil {
			t.Skipf("%s: %v", dev, err)
		}
		f, err := outfile.Create(dev)
		if err != nil {
			t.Fatalf("Create(%s): %v", dev, err)
		}
		if f.Atomic() {
			t.Fatalf("%s would be replaced", dev)
		}
		_, werr := f.Write([]byte(""))
		cerr := f.Commit()
		if dev != "/dev/full" && (werr != nil || cerr != nil) {
			t.Errorf("%s: write %v, commit %v", dev, werr, cerr)
		}
		after, _ := os.Stat(dev)
		if after.Mode() != before.Mode() || !os.SameFile(before, after) {
			t.Fatalf("%s changed: %v → %v", dev, before.Mode(), after.Mode())
		}
	}
	// /dev/full takes no bytes: the error reaches the caller.
	if err := outfile.WriteFile("/dev/full", []byte("x")); err == nil {
		t.Error("writing to /dev/full did not fail")
	}
	if st, _ := os.Stat("/dev/full"); st.Mode()&fs.ModeCharDevice == 0 {
		t.Fatal("/dev/full is no longer a device")
	}
}

func TestFIFOAndDeviceOutsideDev(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	got := make(chan string)
	go func() {
		r, err := os.Open(fifo)
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(r)
		r.Close()
		got <- string(b)
	}()
	if err := outfile.Check(fifo); err != nil {
		t.Fatal(err)
	}
	if err := write(t, fifo, "through the pipe"); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != "through the pipe" {
			t.Fatalf("reader got %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reader got nothing")
	}
	if st, _ := os.Lstat(fifo); st.Mode()&fs.ModeNamedPipe == 0 {
		t.Fatal("the FIFO was replaced")
	}
	// A character device node outside /dev (root only): the same copy of /dev/null.
	null := filepath.Join(dir, "null")
	if err := syscall.Mknod(null, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		t.Log("mknod (needs root):", err)
		return
	}
	if err := write(t, null, "gone"); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Lstat(null); st.Mode()&fs.ModeCharDevice == 0 {
		t.Fatal("the device node was replaced")
	}
	noTemps(t, dir)
}
