package progress

import (
	"io"
	"os"
	"sync"
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

// redrawEvery is how often a bar redraws by itself. The underlying bar draws only when
// told something, and drops what it is told within its throttle: without a redraw a
// description set just after a count would stay hidden through the next long stage, and
// the elapsed time and ETA would freeze while one long step runs.
const redrawEvery = 500 * time.Millisecond

// Bar is a progress bar, or nothing. All methods are safe on a nil *Bar, which is what
// New returns when there is no terminal to draw on, and safe for concurrent use.
type Bar struct {
	mu   sync.Mutex
	pb   *progressbar.ProgressBar
	w    io.Writer
	desc string
	stop chan struct{} // closed by Finish; nil after it
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// New returns a bar of total units drawn on w, or nil (a silent bar) when w is not a
// terminal and opt.Force is not set. Call Finish when done: it stops the redraws.
func New(w io.Writer, total int64, opt Options) *Bar {
	if w == nil || total <= 0 || !(opt.Force || IsTerminal(w)) {
		return nil
	}
	unit := opt.Unit
	if unit == "" {
		unit = "it"
	}
	b := &Bar{w: w, desc: opt.Desc, stop: make(chan struct{}), pb: progressbar.NewOptions64(total,
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
	go b.redraw(b.stop)
	return b
}

func (b *Bar) redraw(stop chan struct{}) {
	t := time.NewTicker(redrawEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			b.mu.Lock()
			if b.stop == stop { // not finished while this tick waited for the lock
				b.pb.Describe(b.desc)
			}
			b.mu.Unlock()
		}
	}
}

// Add advances the bar by n units.
func (b *Bar) Add(n int) {
	if b != nil {
		b.mu.Lock()
		b.pb.Add(n)
		b.mu.Unlock()
	}
}

// Set moves the bar to n units done.
func (b *Bar) Set(n int64) {
	if b != nil {
		b.mu.Lock()
		b.pb.Set64(n)
		b.mu.Unlock()
	}
}

// Describe changes the text before the bar.
func (b *Bar) Describe(s string) {
	if b != nil {
		b.mu.Lock()
		b.desc = s
		b.pb.Describe(s)
		b.mu.Unlock()
	}
}

// Println writes a line to w, above the bar where there is one (the next redraw puts
// the bar back below it).
func (b *Bar) Println(w io.Writer, line string) {
	if b == nil {
		io.WriteString(w, line+"\n")
		return
	}
	b.mu.Lock()
	io.WriteString(w, "\r\x1b[K"+line+"\n")
	b.mu.Unlock()
}

// Finish completes the bar, clears it from the terminal and stops its redraws.
func (b *Bar) Finish() {
	if b != nil {
		b.mu.Lock()
		if b.stop != nil {
			close(b.stop)
			b.stop = nil
			b.pb.Finish()
		}
		b.mu.Unlock()
	}
}
