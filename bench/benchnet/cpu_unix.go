//go:build unix

package benchnet

import (
	"syscall"
	"time"
)

// CPUTime is the process's CPU time (user + system, all threads). On a machine shared
// with other work it does not count the time others hold the cores, which wall time
// does; single-threaded peers are compared on it.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
