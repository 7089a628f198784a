package progress

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Options describe a bar. The zero value is a bar with no description counting "it".
type Options struct {
	Desc string // shown before the bar, e.g. "sampling"
	Unit string // what is counted, e.g. "samples" (shown in the rate)
	// Force draws the bar even when the writer is not a terminal (for tests).
	Force bool
}

// Bar is a progress bar, or nothing. All methods are safe on a nil *Bar, which is what
// New returns when there is no terminal to draw on.
type Bar struct {
	pb *progressbar.ProgressBar
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// New returns a bar of total units drawn on w, or nil (a silent bar) when w is not a
// terminal and opt.Force is not set.
func New(w io.Writer, total int64, opt Options) *Bar {
	if w == nil || total <= 0 || !(opt.Force || IsTerminal(w)) {
		return nil
	}
	unit := opt.Unit
	if unit == "" {
		unit = "it"
	}
	return &Bar{pb: progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(opt.Desc),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString(unit),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetWidth(30),
		progressbar.OptionClearOnFinish(),
	)}
}

// Add advances the bar by n units.
func (b *Bar) Add(n int) {
	if b != nil {
		b.pb.Add(n)
	}
}

// Set moves the bar to n units done.
func (b *Bar) Set(n int64) {
	if b != nil {
		b.pb.Set64(n)
	}
}

// Describe changes the text before the bar.
func (b *Bar) Describe(s string) {
	if b != nil {
		b.pb.Describe(s)
	}
}

// Finish completes the bar and clears it from the terminal.
func (b *Bar) Finish() {
	if b != nil {
		b.pb.Finish()
	}
}
