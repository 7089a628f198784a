package progress_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowmatch/flowmatch/progress"
)

func TestSilentUnlessTerminal(t *testing.T) {
	var buf bytes.Buffer
	b := progress.New(&buf, 100, progress.Options{Desc: "sampling", Unit: "samples"})
	if b != nil {
		t.Fatal("a bar on a bytes.Buffer, which is no terminal")
	}
	b.Add(10) // nil-safe
	b.Describe("x")
	b.Set(50)
	b.Finish()
	if buf.Len() != 0 {
		t.Fatalf("wrote %q to a non-terminal", buf.String())
	}
}

func TestForcedBarShowsRate(t *testing.T) {
	var buf syncBuffer
	b := progress.New(&buf, 100, progress.Options{Desc: "sampling", Unit: "samples", Force: true})
	b.Set(50)
	time.Sleep(250 * time.Millisecond) // past the redraw throttle
	b.Set(60)
	defer b.Finish()
	if s := buf.String(); !strings.Contains(s, "sampling") || !strings.Contains(s, "samples/s") {
		t.Fatalf("bar output %q lacks the description or the rate", s)
	}
}

// A description set right after a count reaches the terminal by the next redraw, even
// with nothing else said.
func TestRedrawShowsLateDescription(t *testing.T) {
	var buf syncBuffer
	b := progress.New(&buf, 10, progress.Options{Desc: "first", Force: true})
	b.Set(1)
	b.Describe("second stage")
	time.Sleep(1200 * time.Millisecond)
	if !strings.Contains(buf.String(), "second stage") {
		t.Fatalf("the late description never showed: %q", buf.String())
	}
	b.Finish()
	b.Finish() // twice is fine
	n := len(buf.String())
	time.Sleep(1200 * time.Millisecond)
	if len(buf.String()) != n {
		t.Fatal("the bar redrew after Finish")
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
