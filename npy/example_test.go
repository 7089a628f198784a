package npy_test

import (
	"bytes"
	"fmt"

	"github.com/flowmatch/flowmatch/npy"
)

// Write a 2×3 float32 array and read its header and first row back.
func Example() {
	var b bytes.Buffer
	if err := npy.WriteFloat32(&b, []float32{1, 2, 3, 4, 5, 6}, 2, 3); err != nil {
		fmt.Println(err)
		return
	}
	h, err := npy.ReadHeader(&b, "x.npy")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(h.Descr, h.ShapeString())
	for range 3 {
		fmt.Print(h.Value(b.Next(h.Size())), " ")
	}
	fmt.Println()
	// Output:
	// <f4 (2, 3)
	// 1 2 3
}
