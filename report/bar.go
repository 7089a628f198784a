package report

import (
	"io"
	"sync"
	"time"

	"github.com/flowmatch/flowmatch/progress"
)

// liveBar is a progress.Bar that a ticker redraws every half second. progress.Bar
// draws only when told something and drops what it is told within its throttle, so
// a stage that starts just after a count (a model's quality right after the previous
// one's) would show the previous stage's name for its whole run, and a long stage
// would freeze the elapsed time and ETA. Nil, and silent, off a terminal.
type liveBar struct {
	mu   sync.Mutex
	bar  *progress.Bar
	desc string
	stop chan struct{}
}

func newLiveBar(w io.Writer, total int64, opt progress.Options) *liveBar {
	bar := progress.New(w, total, opt)
	if bar == nil {
		return nil
	}
	b := &liveBar{bar: bar, desc: opt.Desc, stop: make(chan struct{})}
	go b.tick(b.stop)
	return b
}

func (b *liveBar) tick(stop chan struct{}) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			b.mu.Lock()
			if b.stop == stop { // not finished while this tick waited for the lock
				b.bar.Describe(b.desc)
			}
			b.mu.Unlock()
		}
	}
}

func (b *liveBar) Add(n int) {
	if b != nil {
		b.mu.Lock()
		b.bar.Add(n)
		b.mu.Unlock()
	}
}

func (b *liveBar) Describe(s string) {
	if b != nil {
		b.mu.Lock()
		b.desc = s
		b.bar.Describe(s)
		b.mu.Unlock()
	}
}

// Println writes a line to w in place of the bar, which the next tick redraws below it.
func (b *liveBar) Println(w io.Writer, line string) {
	if b == nil {
		io.WriteString(w, line+"\n")
		return
	}
	b.mu.Lock()
	io.WriteString(w, "\r\x1b[K"+line+"\n")
	b.mu.Unlock()
}

func (b *liveBar) Finish() {
	if b != nil {
		b.mu.Lock()
		close(b.stop)
		b.stop = nil
		b.bar.Finish()
		b.mu.Unlock()
	}
}
