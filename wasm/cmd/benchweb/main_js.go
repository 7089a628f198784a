//go:build js

package main

// Under js/wasm benchweb only says where it runs: it drives a browser from the host.

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "benchweb: runs natively (it starts headless Chromium); cd wasm && go run ./cmd/benchweb")
	os.Exit(2)
}
