package trainer

import (
	"fmt"
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on path (created if needed), so that two runs never
// write or resume the same checkpoint at once. The returned func releases and removes
// it. The lock dies with the process, so a killed run leaves nothing stale behind.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("checkpoint lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another run is using checkpoint %s (lock %s held); wait for it or pass a different -ckpt", path[:len(path)-len(".lock")], path)
	}
	return func() {
		os.Remove(path)
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
