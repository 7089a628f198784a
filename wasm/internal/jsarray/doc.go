// Package jsarray copies numbers between Go slices and JavaScript's ArrayBuffers and
// typed arrays, for the page and its Web Workers (js/wasm only; elsewhere it is empty).
package jsarray
