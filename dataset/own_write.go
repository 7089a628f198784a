package dataset

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// WriteCSV writes x, n×d row-major, as CSV with a header x0,x1,…,x{d-1} and one row a
// point, each value in the shortest form that reads back as the same float32, so that
// ReadCSV returns x exactly.
func WriteCSV(w io.Writer, x []float32, d int) error {
	if d < 1 || len(x)%d != 0 {
		return fmt.Errorf("dataset: WriteCSV: %d values do not make rows of %d", len(x), d)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	for j := 0; j < d; j++ {
		if j > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("x" + strconv.Itoa(j))
	}
	bw.WriteByte('\n')
	var buf []byte
	for i := 0; i < len(x); i += d {
		buf = buf[:0]
		for j, v := range x[i : i+d] {
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendFloat(buf, float64(v), 'g', -1, 32)
		}
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}
