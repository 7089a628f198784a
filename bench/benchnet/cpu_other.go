//go:build !unix && !js

package benchnet

import "time"

// CPUTime is not measured on this system: 0.
func CPUTime() time.Duration { return 0 }
