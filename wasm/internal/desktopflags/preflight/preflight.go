// Package preflight runs desktopflags.Preflight before Ebiten initialises: import it
// for its side effect, first thing in the desktop build.
//
// Go initialises packages in import-path order where their imports allow (the Go
// specification, "Package initialization", since Go 1.21). This package and its imports
// (desktopflags and a few standard packages that Ebiten imports too) are ready before
// github.com/hajimehoshi/ebiten/v2/internal/ui, whose init opens the display, and
// github.com/flowmatch/… sorts before github.com/hajimehoshi/…, so this init runs
// first. The desktop tests (make test-web, the README contract) run the built binary's
// -h without a display, which fails if that order ever changes.
package preflight

import (
	"os"

	"github.com/flowmatch/flowmatch/wasm/internal/desktopflags"
)

func init() {
	desktopflags.Preflight(os.Args[1:])
}
