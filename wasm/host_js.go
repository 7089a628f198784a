//go:build js

package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/url"
	"strconv"
	"strings"
	"syscall/js"

	"github.com/flowmatch/flowmatch/explorer"
	"github.com/flowmatch/flowmatch/wasm/internal/jsarray"
	"github.com/hajimehoshi/ebiten/v2"
)

// jsHost is the browser's host: models fetched relative to the page, settings from the
// query string, and window.flowmatch, the bridge the page's controls and tests use.
type jsHost struct {
	query   url.Values
	workers explorer.ModelPool // the Web Workers (pool_js.go); nil: everything is computed in the page
}

var _ host = (*jsHost)(nil)

func newHost() *jsHost {
	h := &jsHost{query: url.Values{}}
	if q, err := url.ParseQuery(strings.TrimPrefix(js.Global().Get("location").Get("search").String(), "?")); err == nil {
		h.query = q
	}
	h.workers = newWorkerPool(h.workerCount())
	return h
}

// workerCount is how many Web Workers to start: ?workers=N (0 computes in the page),
// by default one per core the browser reports, at most maxWorkers.
func (h *jsHost) workerCount() int {
	if v := h.query.Get("workers"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			h.warn(fmt.Sprintf("ignored workers=%q: want a whole number, 0 to compute in the page", v))
		} else {
			return min(n, maxWorkers)
		}
	}
	n := 1
	if c := js.Global().Get("navigator").Get("hardwareConcurrency"); c.Type() == js.TypeNumber {
		n = c.Int()
	}
	return min(max(n, 1), maxWorkers)
}

// pool is the app's Pool: the workers, or none.
func (h *jsHost) pool() explorer.Pool { return h.workers }

// fetch gets a file relative to the page, blocking the calling goroutine (never call it
// from a JavaScript callback).
func fetch(path string) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	var onResp, onBuf, onErr js.Func
	release := func() { onResp.Release(); onBuf.Release(); onErr.Release() }
	onErr = js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "network error"
		if len(args) > 0 {
			msg = args[0].Call("toString").String()
		}
		ch <- result{err: fmt.Errorf("could not fetch %s: %s", path, msg)}
		return nil
	})
	onBuf = js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{b: jsarray.Bytes(args[0])}
		return nil
	})
	onResp = js.FuncOf(func(_ js.Value, args []js.Value) any {
		resp := args[0]
		if !resp.Get("ok").Bool() {
			ch <- result{err: fmt.Errorf("could not fetch %s: HTTP %d %s", path, resp.Get("status").Int(), resp.Get("statusText").String())}
			return nil
		}
		resp.Call("arrayBuffer").Call("then", onBuf, onErr)
		return nil
	})
	js.Global().Call("fetch", path).Call("then", onResp, onErr)
	r := <-ch
	release()
	return r.b, r.err
}

func (h *jsHost) manifest() (*explorer.Manifest, error) {
	b, err := fetch("models/manifest.json")
	if err != nil {
		return nil, fmt.Errorf("the model list is missing (%v); build the site with make www", err)
	}
	return explorer.ParseManifest(b)
}

func (h *jsHost) load(e explorer.Entry) (*explorer.Model, error) {
	b, err := fetch("models/" + e.File)
	if err != nil {
		return nil, err
	}
	return explorer.DecodeShared(h.workers, e, b)
}

func (h *jsHost) params() map[string]string {
	out := map[string]string{}
	for _, name := range paramOrder {
		if v := h.query.Get(name); v != "" {
			out[name] = v
		}
	}
	return out
}

func (h *jsHost) canvasUI() bool { return h.query.Get("ui") == "canvas" }

func (h *jsHost) warn(s string) {
	js.Global().Get("console").Call("warn", "flowmatch: "+s)
}

// errOrNull is a call's result for JavaScript: the error's text, or null.
func errOrNull(err error) any {
	if err != nil {
		return err.Error()
	}
	return js.Null()
}

// str is argument i of a JavaScript call as a string ("" when missing or null).
func str(args []js.Value, i int) string {
	if i >= len(args) || args[i].IsUndefined() || args[i].IsNull() {
		return ""
	}
	if args[i].Type() == js.TypeString {
		return args[i].String()
	}
	return args[i].Call("toString").String()
}

// installBridge sets window.flowmatch, the object the page's controls and tests drive
// the app with; its status reports *firstFrameAt.
func installBridge(g *Game, firstFrameAt *float64) {
	app := g.app
	toJS := func(v any) any {
		b, err := json.Marshal(v)
		if err != nil {
			return js.Null()
		}
		return js.Global().Get("JSON").Call("parse", string(b))
	}
	// status is the app's snapshot plus what only the page knows; status({sample: false})
	// leaves out the positions, for callers that poll often.
	type pageStatus struct {
		explorer.Status
		Ready        bool    `json:"ready"`
		UpdateMs     float64 `json:"updateMs"`  // CPU time of a frame's update (integration included)
		DrawMs       float64 `json:"drawMs"`    // CPU time of a frame's drawing
		DrawCalls    int     `json:"drawCalls"` // DrawTriangles calls for the particles last frame
		FirstFrameAt float64 `json:"firstFrameAt,omitempty"`
		StartedAt    float64 `json:"startedAt"` // when the Go program was ready (epoch ms)
	}
	perf := js.Global().Get("performance")
	startedAt := perf.Get("timeOrigin").Float() + perf.Call("now").Float()
	status := func(args []js.Value) any {
		st := pageStatus{Status: app.Status(), Ready: true, FirstFrameAt: *firstFrameAt, StartedAt: startedAt,
			UpdateMs: math.Round(g.updateMs*100) / 100, DrawMs: math.Round(g.drawMs*100) / 100, DrawCalls: g.particleCalls}
		if len(args) > 0 && args[0].Type() == js.TypeObject {
			if v := args[0].Get("sample"); v.Type() == js.TypeBoolean && !v.Bool() {
				st.Sample = [][2]float32{}
			}
		}
		return toJS(st)
	}
	api := map[string]any{
		"status":    js.FuncOf(func(_ js.Value, args []js.Value) any { return status(args) }),
		"controls":  js.FuncOf(func(js.Value, []js.Value) any { return toJS(app.Controls()) }),
		"shortcuts": js.FuncOf(func(js.Value, []js.Value) any { return toJS(explorer.Shortcuts()) }),
		"set": js.FuncOf(func(_ js.Value, args []js.Value) any {
			return errOrNull(app.Set(str(args, 0), str(args, 1)))
		}),
		"do": js.FuncOf(func(_ js.Value, args []js.Value) any {
			return errOrNull(app.Do(str(args, 0)))
		}),
		"key": js.FuncOf(func(_ js.Value, args []js.Value) any {
			shift := len(args) > 1 && args[1].Truthy()
			return app.Key(str(args, 0), shift)
		}),
		"drop": js.FuncOf(func(_ js.Value, args []js.Value) any {
			if len(args) < 2 || args[0].Type() != js.TypeNumber || args[1].Type() != js.TypeNumber {
				return "drop: want two numbers, x and y in data coordinates"
			}
			app.Drop(args[0].Float(), args[1].Float())
			return js.Null()
		}),
	}
	maps.Copy(api, ownAPI(app))   // the "Your data" mode's (ownmode_js.go)
	maps.Copy(api, imageAPI(app)) // the Images mode's (imagemode_js.go)
	obj := js.Global().Get("Object").New()
	for k, v := range api {
		obj.Set(k, v)
	}
	js.Global().Set("flowmatch", obj)
}

// attach installs window.flowmatch and tells the page when the first frame is drawn.
func (h *jsHost) attach(g *Game) {
	app := g.app
	perf := js.Global().Get("performance")
	var firstFrameAt float64
	installBridge(g, &firstFrameAt)
	// From here on the canvas tells what is happening (loading a model, errors).
	if m := js.Global().Get("document").Call("getElementById", "msg"); m.Truthy() {
		m.Call("remove")
	}

	// Drops from pointer events on the canvas: mouse, touch and pen alike, however short.
	if canvas := js.Global().Get("document").Call("querySelector", "canvas"); canvas.Truthy() && g.ui == nil {
		g.domDrops = true
		at := func(e js.Value) (float64, float64) {
			r := canvas.Call("getBoundingClientRect")
			s := g.scale
			return (e.Get("clientX").Float() - r.Get("left").Float()) * s, (e.Get("clientY").Float() - r.Get("top").Float()) * s
		}
		canvas.Call("addEventListener", "pointerdown", js.FuncOf(func(_ js.Value, args []js.Value) any {
			e := args[0]
			if e.Get("button").Int() != 0 {
				return nil
			}
			app.Press(at(e))
			return nil
		}))
		// Strokes of the brush in the "Your data" mode: moves with the button held.
		canvas.Call("addEventListener", "pointermove", js.FuncOf(func(_ js.Value, args []js.Value) any {
			if e := args[0]; e.Get("buttons").Int()&1 != 0 {
				app.DragAt(at(e))
			}
			return nil
		}))
		canvas.Get("style").Set("touchAction", "none") // a finger draws rather than scrolls
	}
	h.ownData(app)
	var lastErr string
	g.onFrame = func(g *Game, _ *ebiten.Image) {
		if firstFrameAt == 0 && app.FirstFrame() > 0 {
			firstFrameAt = perf.Get("timeOrigin").Float() + perf.Call("now").Float()
		}
		// Tell the page about errors, so that it can show them beside the controls.
		if e := app.Error(); e != lastErr {
			lastErr = e
			if f := js.Global().Get("flowmatchOnError"); f.Type() == js.TypeFunction {
				f.Invoke(e)
			}
		}
	}
	if f := js.Global().Get("flowmatchOnReady"); f.Type() == js.TypeFunction {
		f.Invoke()
	}
}
