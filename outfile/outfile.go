package outfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// maxLinks bounds how many symlinks are followed, as the kernel's ELOOP does.
const maxLinks = 40

// Target is what a path resolves to for writing.
type Target struct {
	Path    string      // the file that will be written: the path itself, or where its symlinks lead
	Exists  bool        // Path exists now
	Regular bool        // Path is (or will be) a regular file, written atomically
	Mode    fs.FileMode // permissions the written file gets (an existing file's own)
}

// Resolve says where output to path would go, without creating anything. It follows
// symlinks (also dangling ones, to the file they would create), and fails with a clear
// error for a folder, a missing or non-folder parent, a symlink loop or an empty path.
func Resolve(path string) (Target, error) {
	if path == "" {
		return Target{}, errors.New("empty output path")
	}
	// /dev/stdout, /proc/self/fd/N and the like are names for open files, not places to
	// put new ones: write through them even where they lead to a regular file.
	if throughOnly(path) {
		st, err := os.Stat(path)
		if err != nil {
			return Target{}, fmt.Errorf("%s: %w", path, unwrap(err))
		}
		if st.IsDir() {
			return Target{}, fmt.Errorf("%s is a folder, not a file", path)
		}
		return Target{Path: path, Exists: true, Regular: false}, nil
	}
	p := path
	for i := 0; ; i++ {
		if i > maxLinks {
			return Target{}, fmt.Errorf("%s: too many levels of symbolic links", path)
		}
		st, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			dir := filepath.Dir(p)
			dst, derr := os.Stat(dir)
			switch {
			case derr != nil:
				return Target{}, fmt.Errorf("cannot write %s: folder %s does not exist", path, dir)
			case !dst.IsDir():
				return Target{}, fmt.Errorf("cannot write %s: %s is not a folder", path, dir)
			}
			return Target{Path: p, Regular: true, Mode: 0o644}, nil
		}
		if err != nil {
			return Target{}, fmt.Errorf("cannot write %s: %w", path, unwrap(err))
		}
		switch m := st.Mode(); {
		case m&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return Target{}, fmt.Errorf("cannot write %s: %w", path, unwrap(err))
			}
			if !filepath.IsAbs(link) {
				link = filepath.Join(filepath.Dir(p), link)
			}
			p = link
			if throughOnly(p) {
				return Resolve(p)
			}
			continue
		case m.IsDir():
			return Target{}, fmt.Errorf("%s is a folder, not a file", path)
		case m.IsRegular():
			return Target{Path: p, Exists: true, Regular: true, Mode: m.Perm()}, nil
		default: // device, FIFO, socket, terminal
			return Target{Path: p, Exists: true, Regular: false, Mode: m.Perm()}, nil
		}
	}
}

// throughOnly reports whether path lies under /dev or /proc, where no file is ever
// created or replaced.
func throughOnly(path string) bool {
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	return abs == "/dev" || abs == "/proc" || strings.HasPrefix(abs, "/dev/") || strings.HasPrefix(abs, "/proc/")
}

// Check reports whether output can go to path, without creating or changing anything
// there: the path must not be a folder, and for a regular file its folder must accept a
// new file. Commands call it before long work, so that a bad -o fails at once.
func Check(path string) error {
	t, err := Resolve(path)
	if err != nil {
		return err
	}
	if !t.Regular {
		return nil // opened at Create; a FIFO would block here until its reader comes
	}
	dir := filepath.Dir(t.Path)
	f, err := os.CreateTemp(dir, ".flowmatch-write-test-*")
	if err != nil {
		return fmt.Errorf("cannot write %s: folder %s does not accept new files (%v)", path, dir, unwrap(err))
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}

// File is an output file being written. Write to it, then Commit; Abort (safe to defer,
// a no-op after Commit) drops what was written to a regular file.
type File struct {
	name   string // the path the user gave, for messages
	target Target
	f      *os.File
	tmp    string // temporary file's name, "" when writing through
	done   bool
}

// Create opens path for output as the package documentation describes.
func Create(path string) (*File, error) {
	t, err := Resolve(path)
	if err != nil {
		return nil, err
	}
	out := &File{name: path, target: t}
	if !t.Regular {
		f, err := os.OpenFile(t.Path, os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("cannot write %s: %w", path, unwrap(err))
		}
		out.f = f
		return out, nil
	}
	dir, base := filepath.Split(t.Path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", path, unwrap(err))
	}
	out.f, out.tmp = f, f.Name()
	return out, nil
}

// Name is the path the file was created with.
func (f *File) Name() string { return f.name }

// Atomic reports whether the output is a regular file that appears only at Commit.
func (f *File) Atomic() bool { return f.tmp != "" }

// Write writes to the output (the temporary file, for a regular target).
func (f *File) Write(p []byte) (int, error) { return f.f.Write(p) }

// Commit finishes the output: for a regular file it sets the permissions (an existing
// file's own, else 0644), syncs, and renames the temporary file over the target.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("%s: already closed", f.name)
	}
	f.done = true
	if f.tmp == "" {
		if err := f.f.Close(); err != nil {
			return fmt.Errorf("writing %s: %w", f.name, unwrap(err))
		}
		return nil
	}
	err := f.f.Chmod(f.target.Mode)
	if err == nil {
		err = f.f.Sync()
	}
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.tmp, f.target.Path)
	}
	if err != nil {
		os.Remove(f.tmp)
		return fmt.Errorf("writing %s: %w", f.name, unwrap(err))
	}
	if d, err := os.Open(filepath.Dir(f.target.Path)); err == nil {
		d.Sync() // make the rename itself durable
		d.Close()
	}
	return nil
}

// Abort drops the output: a regular target keeps what it held before. After Commit it
// does nothing, so `defer f.Abort()` is the usual way to clean up on every error path.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.f.Close()
	if f.tmp != "" {
		os.Remove(f.tmp)
	}
}

// WriteFile writes data to path as [Create], Write and Commit do.
func WriteFile(path string, data []byte) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", path, unwrap(err))
	}
	return f.Commit()
}

// unwrap drops a *PathError's repetition of a (temporary) file's name.
func unwrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
