package progress_test

import (
	"bytes"
	"strings"
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
	var buf bytes.Buffer
	b := progress.New(&buf, 100, progress.Options{Desc: "sampling", Unit: "samples", Force: true})
	b.Set(50)
	time.Sleep(250 * time.Millisecond) // past the redraw throttle
	b.Set(60)
	if s := buf.String(); !strings.Contains(s, "sampling") || !strings.Contains(s, "samples/s") {
		t.Fatalf("bar output %q lacks the description or the rate", s)
	}
}
