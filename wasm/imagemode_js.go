//go:build js

package main

import (
	"errors"
	"syscall/js"

	"github.com/flowmatch/flowmatch/explorer"
	"github.com/flowmatch/flowmatch/wasm/internal/jsarray"
)

// imageAPI is the Images mode's part of window.flowmatch: loadModel(name, bytes), a
// model file (a Uint8Array or ArrayBuffer) dropped on the page, shown in the Images mode
// when it is an image model; it returns an error in words or null.
func imageAPI(app *explorer.App) map[string]any {
	return map[string]any{
		"loadModel": js.FuncOf(func(_ js.Value, args []js.Value) any {
			if len(args) < 2 {
				return errOrNull(errors.New("loadModel: want a file name and its bytes"))
			}
			b := args[1]
			isBuf := b.InstanceOf(js.Global().Get("ArrayBuffer"))
			if !isBuf && !(b.Type() == js.TypeObject && js.Global().Get("ArrayBuffer").Call("isView", b).Bool()) {
				return errOrNull(errors.New("loadModel: the file's bytes are not an ArrayBuffer or a Uint8Array"))
			}
			return errOrNull(app.LoadModelFile(str(args, 0), jsarray.Bytes(b)))
		}),
	}
}
