package trainer

import (
	"fmt"
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on target + ".lock" (created if needed), so that two
// runs never write the same model file, or write or resume the same checkpoint, at
// once. flag names the flag that picks target ("-o", "-ckpt"), for the message a second
// run gets. The returned func releases and removes the lock file. The lock dies with
// the process, so a killed run leaves nothing stale behind.
func lockFile(target, flag string) (func(), error) {
	path := target + ".lock"
	for try := 0; ; try++ {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return nil, fmt.Errorf("cannot lock %s: %w", target, unwrapPath(err))
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			return nil, fmt.Errorf("another run is writing %s (lock %s held); wait for it or pass a different %s", target, path, flag)
		}
		// The holder removes the file before it unlocks: if it did so between our open
		// and our flock, we hold a lock on a file no one else will open. Start over.
		if fi, err := f.Stat(); err == nil {
			if pi, err := os.Stat(path); err == nil && os.SameFile(fi, pi) {
				return func() {
					os.Remove(path)
					syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
					f.Close()
				}, nil
			}
		}
		f.Close()
		if try == 10 {
			return nil, fmt.Errorf("cannot lock %s: %s keeps changing", target, path)
		}
	}
}

// unwrapPath drops a *PathError's operation and path, which the message names anyway.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
