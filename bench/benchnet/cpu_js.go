//go:build js

package benchnet

import (
	"syscall/js"
	"time"
)

// CPUTime is Node's process CPU time (user + system), see cpu_unix.go.
func CPUTime() time.Duration {
	p := js.Global().Get("process")
	if p.IsUndefined() || p.Get("cpuUsage").IsUndefined() {
		return 0
	}
	u := p.Call("cpuUsage")
	return time.Duration(u.Get("user").Float()+u.Get("system").Float()) * time.Microsecond
}
