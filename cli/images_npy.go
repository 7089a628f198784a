package cli

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// npyMagic begins every .npy file (numpy.lib.format).
const npyMagic = "\x93NUMPY"

// writeNPYHeader writes a version 1.0 .npy header for an array of descr ('<f4', '<i8')
// and shape, C order, padded so the data start on a 64-byte boundary as NumPy writes it.
// dataset.WriteNPY writes 2-D float32 arrays only; images are n×height×width.
func writeNPYHeader(w io.Writer, descr string, shape []int) error {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += "," // a one-element tuple in Python
	}
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, tuple)
	pad := 64 - (len(npyMagic)+4+len(h)+1)%64
	h += strings.Repeat(" ", pad%64) + "\n"
	pre := []byte(npyMagic + "\x01\x00")
	pre = binary.LittleEndian.AppendUint16(pre, uint16(len(h)))
	_, err := w.Write(append(pre, h...))
	return err
}

// writeNPYFloat32 writes x as a float32 array of the given shape, whose product is len(x).
func writeNPYFloat32(w io.Writer, x []float32, shape []int) error {
	if err := writeNPYHeader(w, "<f4", shape); err != nil {
		return err
	}
	return writeNPYWords(w, len(x), 4, func(b []byte, i int) []byte {
		return binary.LittleEndian.AppendUint32(b, math.Float32bits(x[i]))
	})
}

// writeNPYInt64 writes y as a one-axis int64 array, as NumPy keeps labels.
func writeNPYInt64(w io.Writer, y []int64) error {
	if err := writeNPYHeader(w, "<i8", []int{len(y)}); err != nil {
		return err
	}
	return writeNPYWords(w, len(y), 8, func(b []byte, i int) []byte {
		return binary.LittleEndian.AppendUint64(b, uint64(y[i]))
	})
}

// writeNPYWords writes n values of size bytes each, appended by put, in 64 KiB writes.
func writeNPYWords(w io.Writer, n, size int, put func([]byte, int) []byte) error {
	buf := make([]byte, 0, 1<<16)
	for i := range n {
		buf = put(buf, i)
		if len(buf)+size > cap(buf) || i == n-1 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	return nil
}
