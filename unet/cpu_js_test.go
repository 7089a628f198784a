//go:build js

package unet

import (
	"syscall/js"
	"time"
)

// cpuTime is Node's process CPU time (user + system).
func cpuTime() time.Duration {
	u := js.Global().Get("process").Call("cpuUsage")
	return time.Duration(u.Get("user").Float()+u.Get("system").Float()) * time.Microsecond
}
