//go:build js

package main

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
	"syscall/js"

	"github.com/flowmatch/flowmatch/explorer"
	"github.com/flowmatch/flowmatch/wasm/internal/jsarray"
)

// modelFile is window.flowmatch.model(): the model trained in the "Your data" mode as
// {name, bytes: Uint8Array}, or null before there is one.
func modelFile(app *explorer.App) any {
	b, name := app.ModelFile()
	if b == nil {
		return js.Null()
	}
	u8 := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u8, b)
	obj := js.Global().Get("Object").New()
	obj.Set("name", name)
	obj.Set("bytes", u8)
	return obj
}

// setPoints is window.flowmatch.setPoints(name, xy): points as a Float32Array or an
// array of numbers, x and y in turn.
func setPoints(app *explorer.App, args []js.Value) (err error) {
	if len(args) < 2 {
		return errors.New("setPoints: want a name and the points (x, y, x, y, …)")
	}
	defer func() {
		if r := recover(); r != nil { // syscall/js panics on a value of the wrong type
			err = fmt.Errorf("setPoints: %v", r)
		}
	}()
	v := args[1]
	var pts []float32
	if v.InstanceOf(js.Global().Get("Float32Array")) {
		pts = jsarray.Float32s(v)
	} else {
		n := v.Length()
		pts = make([]float32, n)
		for i := range pts {
			pts[i] = float32(v.Index(i).Float())
		}
	}
	source := "drawn"
	if len(args) > 2 && args[2].Type() == js.TypeString {
		source = args[2].String()
	}
	return app.SetPoints(args[0].String(), source, pts)
}

// ownData takes the "Your data" mode's points from the page's address: #points= (a
// drawing, explorer.EncodePoints) or ?data=URL (a CSV on the same site, fetched). Either
// opens the mode; what goes wrong is shown in the page, not a panic.
func (h *jsHost) ownData(app *explorer.App) {
	loc := js.Global().Get("location")
	if hash := strings.TrimPrefix(loc.Get("hash").String(), "#"); strings.HasPrefix(hash, "points=") {
		app.Set("mode", explorer.ModeYours)
		pts, err := explorer.DecodePoints(strings.TrimPrefix(hash, "points="))
		if err == nil {
			err = app.SetPoints("linked", "link", pts)
		}
		if err != nil {
			app.QueueLoad("link", "link", nil, err)
		}
	}
	src := h.query.Get("data")
	if src == "" {
		return
	}
	app.Set("mode", explorer.ModeYours)
	u, err := url.Parse(loc.Get("href").String())
	var ref *url.URL
	if err == nil {
		ref, err = u.Parse(src)
	}
	if err == nil && (ref.Scheme != u.Scheme || ref.Host != u.Host) {
		err = fmt.Errorf("data=%s: only files of this site (%s) can be fetched", src, u.Host)
	}
	if err != nil {
		app.QueueLoad(src, "url", nil, err)
		return
	}
	go func() {
		b, err := fetch(ref.String())
		app.QueueLoad(path.Base(ref.Path), "url", b, err)
	}()
}

// ownAPI is the "Your data" mode's part of window.flowmatch.
func ownAPI(app *explorer.App) map[string]any {
	return map[string]any{
		"model":  js.FuncOf(func(js.Value, []js.Value) any { return modelFile(app) }),
		"points": js.FuncOf(func(js.Value, []js.Value) any { return jsarray.Float32Array(app.Points()) }),
		"pointsCSV": js.FuncOf(func(js.Value, []js.Value) any {
			b, name := app.PointsCSV()
			return map[string]any{"name": name, "text": string(b)}
		}),
		"link": js.FuncOf(func(js.Value, []js.Value) any { return "#points=" + explorer.EncodePoints(app.Points()) }),
		"loadCSV": js.FuncOf(func(_ js.Value, args []js.Value) any {
			return errOrNull(app.LoadCSV(str(args, 0), []byte(str(args, 1))))
		}),
		"setPoints": js.FuncOf(func(_ js.Value, args []js.Value) any { return errOrNull(setPoints(app, args)) }),
	}
}
