package metrics

import (
	"errors"
	"fmt"
	"math"
)

// ErrEmpty is returned when a problem has no points or no rows.
var ErrEmpty = errors.New("metrics: empty input")

// MaxN is the largest assignment [Assign] solves and the most points [W2] (and so
// [W2Floor] and [W2IIDFloor]) matches. Exact W2 needs an n×n float64 cost matrix,
// n²·8 bytes (72 MB at 3,000; 80 GB at 100,000, which killed the process with a
// runtime out-of-memory error), and Jonker–Volgenant's time grows up to n³. Measured
// for W2 on a shared 2-core machine, between two draws of a toy dataset and between
// the standard normal and moons (what an untrained model scores, the slow case):
// n = 1,000 took 0.1–0.2 s and 0.9 s, 2,000 took 0.5–0.8 s and 8 s, 3,000 took
// 1.6–4 s and 41 s, 4,000 took 2.6–5 s and 104 s. At 3,000 the slow case stays within
// about a minute. Past MaxN these functions return [ErrTooLarge] at once.
const MaxN = 3000

// ErrTooLarge is returned when n is above [MaxN].
var ErrTooLarge = errors.New("too many points for exact assignment")

// tooLarge is the error for n above MaxN, naming fn and both costs.
func tooLarge(fn string, n int) error {
	return fmt.Errorf("metrics: %s: n = %d, above MaxN = %d: %w (the cost matrix takes n²·8 bytes, %s here, and the time grows as n³)",
		fn, n, MaxN, ErrTooLarge, MatrixSize(n))
}

// MatrixSize is the memory the n×n float64 cost matrix of exact assignment takes, the
// way people read it: "80 GB" for n = 100,000. Callers that refuse an n above MaxN
// before asking use it to say why.
func MatrixSize(n int) string {
	return bytesString(8 * float64(n) * float64(n))
}

// bytesString writes a byte count the way people read it: 80 GB, 512 MB.
func bytesString(b float64) string {
	for _, u := range []string{"bytes", "kB", "MB", "GB"} {
		if b < 1000 {
			return fmt.Sprintf("%.3g %s", b, u)
		}
		b /= 1000
	}
	return fmt.Sprintf("%.3g TB", b)
}

// Assign solves the linear assignment problem for the dense n×n cost matrix
// cost (row-major, cost[i*n+j] is the cost of giving column j to row i): it
// returns the permutation rowToCol that minimises Σ_i cost[i*n+rowToCol[i]]
// and that minimal total.
//
// The solver is the Jonker–Volgenant shortest augmenting path algorithm
// (column reduction, reduction transfer, two passes of augmenting row
// reduction, then one Dijkstra-like augmentation per remaining free row),
// in float64. Its worst case is O(n³) time; it needs O(n) memory beyond
// cost, which it does not modify. A 2,000×2,000 matrix of squared Euclidean
// distances between two 2D point clouds takes about 0.8 s natively on one
// core of the project's reference machine (BenchmarkAssign2000), and about
// four times as long under js/wasm in Node.
//
// Costs must be finite; a NaN or infinite entry, len(cost) != n*n, n < 1 or
// n > [MaxN] is an error.
func Assign(cost []float64, n int) (rowToCol []int, total float64, err error) {
	if n < 1 {
		return nil, 0, fmt.Errorf("metrics: Assign: n = %d: %w", n, ErrEmpty)
	}
	if n > MaxN {
		return nil, 0, tooLarge("Assign", n)
	}
	if len(cost) != n*n {
		return nil, 0, fmt.Errorf("metrics: Assign: len(cost) = %d, want n*n = %d", len(cost), n*n)
	}
	for k, c := range cost {
		if math.IsNaN(c) || math.IsInf(c, 0) {
			return nil, 0, fmt.Errorf("metrics: Assign: cost[%d] (row %d, column %d) is %v", k, k/n, k%n, c)
		}
	}
	if n == 1 {
		return []int{0}, cost[0], nil
	}
	x := lapjv(cost, n)
	for i, j := range x {
		total += cost[i*n+j]
	}
	return x, total, nil
}

// lapjv returns the optimal row→column assignment for a finite n×n cost
// matrix, n ≥ 2. Notation follows Jonker & Volgenant (1987): x[i] is the
// column of row i, y[j] the row of column j (-1 when free), v[j] the column
// prices. The row potentials stay implicit: the invariant kept throughout is
// that every assigned row i is assigned to a column minimising the reduced
// cost cost[i][j] - v[j] over all j.
func lapjv(cost []float64, n int) []int {
	x := make([]int, n)
	y := make([]int, n)
	v := make([]float64, n)
	free := make([]int, n)
	matches := make([]int, n)
	for i := range x {
		x[i] = -1
	}

	// Column reduction: v[j] = min over rows; give each column to its
	// cheapest row when that row has no column yet. Going from the last
	// column to the first follows the original code.
	for j := n - 1; j >= 0; j-- {
		imin := 0
		vmin := cost[j]
		for i := 1; i < n; i++ {
			if c := cost[i*n+j]; c < vmin {
				vmin = c
				imin = i
			}
		}
		v[j] = vmin
		matches[imin]++
		if matches[imin] == 1 {
			x[imin] = j
			y[j] = imin
		} else {
			y[j] = -1
		}
	}

	// Reduction transfer: rows that got exactly one column hand their
	// slack to that column's price; rows with none are free.
	numFree := 0
	for i := 0; i < n; i++ {
		switch matches[i] {
		case 0:
			free[numFree] = i
			numFree++
		case 1:
			j1 := x[i]
			ci := cost[i*n : (i+1)*n]
			m := math.Inf(1)
			for j, c := range ci {
				if j != j1 {
					if h := c - v[j]; h < m {
						m = h
					}
				}
			}
			v[j1] -= m
		}
	}

	// Augmenting row reduction, two passes. Each step gives a free row its
	// cheapest column and lowers that column's price by the gap to the row's
	// second-cheapest column; a row pushed out of its column is retried at
	// once. The step budget only guards against pathological float cycles:
	// rows left over simply go to the augmentation phase, which is exact
	// whatever state this phase stops in.
	budget := 16*n + 1024
	for pass := 0; pass < 2 && numFree > 0; pass++ {
		k := 0
		prevFree := numFree
		numFree = 0
		for k < prevFree {
			if budget--; budget < 0 {
				for ; k < prevFree; k++ {
					free[numFree] = free[k]
					numFree++
				}
				break
			}
			i := free[k]
			k++
			ci := cost[i*n : (i+1)*n]
			umin := ci[0] - v[0]
			j1, j2 := 0, -1
			usub := math.Inf(1)
			for j := 1; j < n; j++ {
				h := ci[j] - v[j]
				if h < usub {
					if h >= umin {
						usub = h
						j2 = j
					} else {
						usub = umin
						umin = h
						j2 = j1
						j1 = j
					}
				}
			}
			i0 := y[j1]
			strict := umin < usub
			if strict {
				v[j1] -= usub - umin
			} else if i0 >= 0 {
				// A tie: take the second column instead, which may be free.
				j1 = j2
				i0 = y[j2]
			}
			x[i] = j1
			y[j1] = i
			if i0 >= 0 {
				x[i0] = -1
				if strict {
					k--
					free[k] = i0
				} else {
					free[numFree] = i0
					numFree++
				}
			}
		}
	}

	// Augmentation: for each free row, a Dijkstra search over columns on
	// reduced costs until it reaches a free column, then price update and
	// augmentation along the path.
	d := make([]float64, n)
	pred := make([]int, n)
	cols := make([]int, n)
	for f := 0; f < numFree; f++ {
		start := free[f]
		cs := cost[start*n : (start+1)*n]
		for j := 0; j < n; j++ {
			d[j] = cs[j] - v[j]
			pred[j] = start
			cols[j] = j
		}
		// cols[:low] are scanned, cols[low:up] are at the current minimum
		// distance and waiting to be scanned, cols[up:] are the rest.
		low, up, last := 0, 0, 0
		end := -1
		var dmin float64
		for end < 0 {
			if up == low {
				last = low - 1
				dmin = d[cols[up]]
				up++
				for k := up; k < n; k++ {
					j := cols[k]
					h := d[j]
					if h <= dmin {
						if h < dmin {
							up = low
							dmin = h
						}
						cols[k] = cols[up]
						cols[up] = j
						up++
					}
				}
				for k := low; k < up; k++ {
					if y[cols[k]] < 0 {
						end = cols[k]
						break
					}
				}
				if end >= 0 {
					break
				}
			}
			j1 := cols[low]
			low++
			i := y[j1]
			ci := cost[i*n : (i+1)*n]
			h := ci[j1] - v[j1] - dmin
			for k := up; k < n; k++ {
				j := cols[k]
				v2 := ci[j] - v[j] - h
				if v2 < d[j] {
					pred[j] = i
					if v2 == dmin {
						if y[j] < 0 {
							end = j
							break
						}
						cols[k] = cols[up]
						cols[up] = j
						up++
					}
					d[j] = v2
				}
			}
		}
		// Price update for the columns scanned before the last minimum.
		for k := 0; k <= last; k++ {
			j := cols[k]
			v[j] += d[j] - dmin
		}
		// Augment along the predecessor path.
		for {
			i := pred[end]
			y[end] = i
			j := end
			end = x[i]
			x[i] = j
			if i == start {
				break
			}
		}
	}
	return x
}
