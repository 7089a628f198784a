// Package torchpy finds, for the train module's tests, a Python that imports torch:
// the PyTorch those tests compare against (an import check, the pure-Go trainer's
// gradients and AdamW step).
package torchpy

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Python returns $FLOWMATCH_PYTHON, or Debian's /usr/bin/python3 (where python3-torch
// installs torch), or python3 on the PATH, whichever first imports torch. Without one
// it skips t, saying what to install, or fails it when FLOWMATCH_REQUIRE_TORCH=1 (make
// test installs python3-torch and sets it, so that the comparisons must run).
func Python(t testing.TB) string {
	t.Helper()
	var cands []string
	if p := os.Getenv("FLOWMATCH_PYTHON"); p != "" {
		cands = append(cands, p)
	}
	// /usr/bin/python3 before the PATH's: a pyenv python3 there may lack torch.
	cands = append(cands, "/usr/bin/python3", "python3")
	for _, p := range cands {
		if exec.Command(p, "-c", "import torch").Run() == nil {
			return p
		}
	}
	msg := "no Python with torch (tried " + strings.Join(cands, ", ") + "): apt-get install python3-torch"
	if os.Getenv("FLOWMATCH_REQUIRE_TORCH") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
