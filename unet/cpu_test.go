//go:build unix

package unet

import (
	"syscall"
	"time"
)

// cpuTime is the process's CPU time (user + system), which, unlike wall time, does not
// count the time other programs hold the cores: benchmarks on a shared machine report
// both.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
