package explorer

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/dataset"
)

// A person's own 2-D points for the "Your data" mode: drawn with a brush, read from a
// CSV, drawn from a toy, or carried in a link (#points=, see [EncodePoints]).

// Brush adds density points around (x, y), normally spread with standard deviation
// spread in each coordinate: one dab of the drawing brush.
func Brush(pts []float32, x, y, spread float64, density int, rng *rand.Rand) []float32 {
	for range density {
		pts = append(pts, float32(x+spread*rng.NormFloat64()), float32(y+spread*rng.NormFloat64()))
	}
	return pts
}

// Erase removes the points within radius of (x, y), keeping the others in order.
func Erase(pts []float32, x, y, radius float64) []float32 {
	out := pts[:0]
	for i := 0; i+1 < len(pts); i += 2 {
		if math.Hypot(float64(pts[i])-x, float64(pts[i+1])-y) > radius {
			out = append(out, pts[i], pts[i+1])
		}
	}
	return out
}

// ReadPoints reads 2-D points from a CSV (or .npy) file's bytes with package dataset's
// reader: one point a row, two columns, an optional header. name is the file's name in
// messages.
func ReadPoints(name string, b []byte) ([]float32, error) {
	x, _, err := dataset.Read(bytes.NewReader(b), name, dataset.ReadOptions{
		Dim: PlotDim, DimWhat: "the explorer's plane (2-D points)", MaxValues: PlotDim * MaxTrainPoints})
	if err != nil {
		return nil, err
	}
	if n := len(x) / PlotDim; n > MaxTrainPoints {
		return nil, fmt.Errorf("%s: %d points, at most %d", name, n, MaxTrainPoints)
	}
	return x, nil
}

// pointsVersion is the first byte of an encoded set of points.
const pointsVersion = 1

// EncodePoints writes 2-D points compactly for a link's #points=: a version byte, the
// bounding box (four float32), then each point's coordinates quantised to 12 bits within
// the box (three bytes a point), all in unpadded base64url. 2,000 points take 8,000
// characters; the quantisation moves a point by at most 1/8190 of the box's side.
func EncodePoints(pts []float32) string {
	n := len(pts) / 2
	x0, y0, x1, y1 := float32(math.Inf(1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Inf(-1))
	for i := 0; i < n; i++ {
		x0, x1 = min(x0, pts[2*i]), max(x1, pts[2*i])
		y0, y1 = min(y0, pts[2*i+1]), max(y1, pts[2*i+1])
	}
	if n == 0 {
		x0, y0, x1, y1 = 0, 0, 0, 0
	}
	b := make([]byte, 17, 17+3*n)
	b[0] = pointsVersion
	for i, v := range []float32{x0, y0, x1, y1} {
		binary.LittleEndian.PutUint32(b[1+4*i:], math.Float32bits(v))
	}
	q := func(v, lo, hi float32) uint32 {
		if hi <= lo {
			return 0
		}
		return uint32(math.Round(float64((v - lo) / (hi - lo) * 4095)))
	}
	for i := 0; i < n; i++ {
		u := q(pts[2*i], x0, x1)<<12 | q(pts[2*i+1], y0, y1)
		b = append(b, byte(u>>16), byte(u>>8), byte(u))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodePoints reads what [EncodePoints] wrote.
func DecodePoints(s string) ([]float32, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("points: not base64url: %w", err)
	}
	if len(b) < 17 || b[0] != pointsVersion || (len(b)-17)%3 != 0 {
		return nil, errors.New("points: not an encoding of points (wrong version or length)")
	}
	var box [4]float32
	for i := range box {
		box[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[1+4*i:]))
		if math.IsNaN(float64(box[i])) || math.IsInf(float64(box[i]), 0) {
			return nil, errors.New("points: the bounding box is not finite")
		}
	}
	n := (len(b) - 17) / 3
	if n > MaxTrainPoints {
		return nil, fmt.Errorf("points: %d points, at most %d", n, MaxTrainPoints)
	}
	pts := make([]float32, 0, 2*n)
	for i := 0; i < n; i++ {
		c := b[17+3*i:]
		u := uint32(c[0])<<16 | uint32(c[1])<<8 | uint32(c[2])
		pts = append(pts, box[0]+(box[2]-box[0])*float32(u>>12)/4095, box[1]+(box[3]-box[1])*float32(u&4095)/4095)
	}
	return pts, nil
}
