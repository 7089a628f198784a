//go:build !js

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "worker: this is the explorer's Web Worker; build it with GOOS=js GOARCH=wasm (make www)")
	os.Exit(2)
}
