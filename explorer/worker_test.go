package explorer

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// scriptTransport feeds Serve a list of messages and records its answers; onSend may add
// messages as answers come, as a pool does. With the list empty, a waiting Receive stops.
type scriptTransport struct {
	script []Message
	sent   []Result
	models []string // "name: error" or "name"
	onSend func(t *scriptTransport, r Result)
}

func (t *scriptTransport) Receive(wait bool) Message {
	if len(t.script) > 0 {
		m := t.script[0]
		t.script = t.script[1:]
		return m
	}
	if wait {
		return Message{Type: StopMessage}
	}
	return Message{}
}

func (t *scriptTransport) Send(r Result) {
	r.X = append([]float32(nil), r.X...)
	t.sent = append(t.sent, r)
	if t.onSend != nil {
		t.onSend(t, r)
	}
}

func (t *scriptTransport) ModelAdded(name string, err error) {
	if err != nil {
		name += ": " + err.Error()
	}
	t.models = append(t.models, name)
}

func jobMsg(job Job) Message { return Message{Type: JobMessage, Job: job} }

// Serve takes its messages in order, answers every model file, answers the jobs it
// cannot run (a kind it does not know among them) with errors, and steps its runs in
// turn, with the same positions as a lane computed in one place.
func TestServeAnswersInOrder(t *testing.T) {
	files := modelFiles(t)
	x0 := Noise(2, 300, 2)
	tr := &scriptTransport{script: []Message{
		{Type: ModelMessage, Name: "moons-ot", File: files["moons-ot"]},
		{Type: ModelMessage, Name: "junk", File: []byte("not a model")},
		jobMsg(Job{ID: 1, Kind: KindIntegrate, Model: "moons-ot", Method: "midpoint", Steps: 3, T0: 0, T1: 1, X0: x0}),
		jobMsg(Job{ID: 2, Kind: "bake", Model: "moons-ot"}),
		jobMsg(Job{ID: 3, Model: "junk", Method: "euler", Steps: 2, X0: x0}),
		jobMsg(Job{ID: 4, Model: "moons-ot", Method: "euler", Steps: 2, T0: 0, T1: 1, X0: x0[:20]}), // Kind "": integrate
		{Type: CancelMessage, ID: 99},                                                               // no such job: nothing happens
	}}
	w := NewWorker()
	w.Serve(tr)
	if len(tr.models) != 2 || tr.models[0] != "moons-ot" || !strings.HasPrefix(tr.models[1], "junk: ") {
		t.Errorf("model answers %q", tr.models)
	}
	var got []string
	for _, r := range tr.sent {
		s := fmt.Sprintf("%d.%d", r.ID, r.Step)
		if r.Err != nil {
			s += " " + r.Err.Error()
		}
		got = append(got, s)
	}
	want := []string{
		`2.0 job 2: this worker does not know jobs of kind "bake"`,
		"3.0 model junk was not sent to this worker",
		"1.1", "4.1", "1.2", "4.2", "1.3",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("answers:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if w.Busy() {
		t.Error("the worker is still busy after its runs ended")
	}
	m := w.models["moons-ot"]
	ref, _ := NewLane(m.dataSpaceField(), "midpoint", 3, 0, 1, x0)
	ref.Finish()
	for k, i := 1, 2; k <= 3; k, i = k+1, i+2 {
		for j, v := range tr.sent[i].X {
			if v != ref.Frame(k)[j] {
				t.Fatalf("step %d value %d: %v served, %v in a lane", k, j, v, ref.Frame(k)[j])
			}
		}
	}
}

// A cancel stops its run between two rounds and leaves the others running; a stop ends
// Serve at once, dropping the runs and what was queued after it.
func TestServeCancelAndStop(t *testing.T) {
	files := modelFiles(t)
	x0 := Noise(3, 64, 2)
	tr := &scriptTransport{script: []Message{
		{Type: ModelMessage, Name: "moons-ot", File: files["moons-ot"]},
		jobMsg(Job{ID: 1, Kind: KindIntegrate, Model: "moons-ot", Method: "euler", Steps: 10, T0: 0, T1: 1, X0: x0}),
		jobMsg(Job{ID: 2, Kind: KindIntegrate, Model: "moons-ot", Method: "euler", Steps: 5, T0: 0, T1: 1, X0: x0}),
	}}
	tr.onSend = func(tr *scriptTransport, r Result) {
		if r.ID == 1 && r.Step == 2 {
			tr.script = append(tr.script, Message{Type: CancelMessage, ID: 1})
		}
	}
	NewWorker().Serve(tr)
	last := map[int]int{}
	for _, r := range tr.sent {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		last[r.ID] = r.Step
	}
	if last[1] != 2 || last[2] != 5 {
		t.Errorf("last steps %v, want job 1 cancelled after step 2 and job 2 run to its 5", last)
	}

	tr = &scriptTransport{script: tr.script[:0]}
	tr.script = append(tr.script,
		Message{Type: ModelMessage, Name: "moons-ot", File: files["moons-ot"]},
		jobMsg(Job{ID: 1, Kind: KindIntegrate, Model: "moons-ot", Method: "euler", Steps: 10, T0: 0, T1: 1, X0: x0}))
	tr.onSend = func(tr *scriptTransport, r Result) {
		if r.Step == 1 {
			tr.script = append(tr.script, Message{Type: StopMessage},
				jobMsg(Job{ID: 2, Kind: KindIntegrate, Model: "moons-ot", Method: "euler", Steps: 1, X0: x0}))
		}
	}
	w := NewWorker()
	w.Serve(tr)
	if len(tr.sent) != 1 || w.Busy() {
		t.Errorf("after a stop: %d answers (want the 1 before it), busy %v", len(tr.sent), w.Busy())
	}
}

// A GoPool answers a job of a kind its workers do not know with an error and goes on
// serving; a model file its workers cannot read comes back as an error of no job.
func TestGoPoolUnknownKind(t *testing.T) {
	files := modelFiles(t)
	p := newGoPool(t, 1, map[string][]byte{"moons-ot": files["moons-ot"]})
	p.AddModel("junk", []byte("not a model"))
	p.Start(0, Job{ID: 1, Kind: "bake", Model: "moons-ot"})
	p.Start(0, Job{ID: 2, Kind: KindIntegrate, Model: "moons-ot", Method: "euler", Steps: 3, T0: 0, T1: 1, X0: Noise(1, 10, 2)})
	var rs []Result
	deadline := time.Now().Add(30 * time.Second)
	for (len(rs) == 0 || rs[len(rs)-1].Step != 3) && time.Now().Before(deadline) {
		rs = p.Poll(rs)
		time.Sleep(time.Millisecond)
	}
	if len(rs) != 5 {
		t.Fatalf("%d results, want 5: %+v", len(rs), rs)
	}
	if rs[0].ID != -1 || rs[0].Err == nil || !strings.Contains(rs[0].Err.Error(), "junk") {
		t.Errorf("the junk model file gave %+v", rs[0])
	}
	if rs[1].ID != 1 || rs[1].Err == nil || !strings.Contains(rs[1].Err.Error(), `"bake"`) {
		t.Errorf("the train job gave %+v", rs[1])
	}
	for i, r := range rs[2:] {
		if r.ID != 2 || r.Step != i+1 || r.Err != nil || len(r.X) != 20 {
			t.Errorf("result %d of the integration: %+v", i, r)
		}
	}
}

// An inbox hands its messages over in order, without waiting when asked not to, wakes a
// waiting receiver, and says stop once closed, dropping what was queued.
func TestInbox(t *testing.T) {
	in := NewInbox()
	if m := in.Receive(false); m.Type != NoMessage {
		t.Fatalf("an empty inbox gave %+v", m)
	}
	for i := range 3 {
		in.Put(Message{Type: CancelMessage, ID: i})
	}
	for i := range 3 {
		if m := in.Receive(i == 1); m.Type != CancelMessage || m.ID != i {
			t.Fatalf("message %d: %+v", i, m)
		}
	}
	got := make(chan Message)
	go func() { got <- in.Receive(true) }()
	time.Sleep(10 * time.Millisecond)
	in.Put(Message{Type: CancelMessage, ID: 7})
	if m := <-got; m.ID != 7 {
		t.Fatalf("a waiting receiver got %+v", m)
	}
	go func() { got <- in.Receive(true) }()
	in.Put(Message{Type: CancelMessage, ID: 8})
	if m := <-got; m.ID != 8 {
		t.Fatalf("a waiting receiver got %+v", m)
	}
	go func() { got <- in.Receive(true) }()
	time.Sleep(10 * time.Millisecond)
	in.Close()
	if m := <-got; m.Type != StopMessage {
		t.Fatalf("a receiver waiting on a closed inbox got %+v", m)
	}
	in.Put(Message{Type: CancelMessage, ID: 9})
	if m := in.Receive(false); m.Type != StopMessage {
		t.Fatalf("a closed inbox gave %+v", m)
	}
}

// Model files may come from the loader's goroutine while the app starts jobs and closes
// the pool (run with -race).
func TestGoPoolConcurrentModels(t *testing.T) {
	files := modelFiles(t)
	p := NewGoPool(2)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 20 {
			p.AddModel("moons-ot", files["moons-ot"])
		}
	}()
	for i := range 10 {
		p.Start(i%2, Job{ID: i, Kind: KindIntegrate, Model: "moons-ot", Method: "euler", Steps: 2, T0: 0, T1: 1, X0: Noise(1, 8, 2)})
		p.Cancel(i%2, i-1)
	}
	wg.Wait()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p.AddModel("moons-ot", files["moons-ot"]) // after Close: dropped
	for _, r := range p.Poll(nil) {
		if r.Err != nil && !strings.Contains(r.Err.Error(), "was not sent") {
			t.Errorf("result %+v", r)
		}
	}
}

// modelPoolRecorder records the model files sent to it.
type modelPoolRecorder struct {
	Pool
	sent []string
}

func (p *modelPoolRecorder) AddModel(name string, _ []byte) { p.sent = append(p.sent, name) }

// DecodeShared sends the workers the files that decode, and only those.
func TestDecodeShared(t *testing.T) {
	files := modelFiles(t)
	p := &modelPoolRecorder{}
	if _, err := DecodeShared(p, Entry{Name: "moons-ot", Dataset: "moons"}, files["moons-ot"]); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeShared(p, Entry{Name: "junk"}, []byte("not a model")); err == nil {
		t.Error("junk decoded")
	}
	if len(p.sent) != 1 || p.sent[0] != "moons-ot" {
		t.Errorf("sent %q, want the one good file", p.sent)
	}
	if m, err := DecodeShared(nil, Entry{Name: "moons-ot"}, files["moons-ot"]); err != nil || m == nil {
		t.Errorf("without a pool: %v", err)
	}
}
