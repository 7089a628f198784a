//go:build js

package jsarray

import (
	"syscall/js"
	"unsafe"
)

// Bytes copies an ArrayBuffer or a typed array into Go. The bytes are backed by float32s,
// so that Float32s can read positions from them in place (aligned).
func Bytes(v js.Value) []byte {
	var u8 js.Value
	if v.InstanceOf(js.Global().Get("ArrayBuffer")) {
		u8 = js.Global().Get("Uint8Array").New(v)
	} else {
		u8 = js.Global().Get("Uint8Array").New(v.Get("buffer"), v.Get("byteOffset"), v.Get("byteLength"))
	}
	n := u8.Get("length").Int()
	f := make([]float32, (n+3)/4)
	if len(f) == 0 {
		return nil
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), n)
	js.CopyBytesToGo(b, u8)
	return b
}

// Float32s copies a Float32Array into Go.
func Float32s(v js.Value) []float32 {
	b := Bytes(v)
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4)
}

// Float32Array copies x into a new Float32Array.
func Float32Array(x []float32) js.Value {
	u8 := js.Global().Get("Uint8Array").New(4 * len(x))
	if len(x) > 0 {
		js.CopyBytesToJS(u8, unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), 4*len(x)))
	}
	return js.Global().Get("Float32Array").New(u8.Get("buffer"))
}
