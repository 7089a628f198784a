package recipe

import (
	"math"
)

// auction pairs the noise and data points of a training batch by an optimal assignment
// (the minibatch-OT coupling).
//
// metrics.Assign (Jonker–Volgenant) is exact, but on the squared-distance costs of a
// batch of Gaussian noise against a 2D toy dataset it degrades towards O(n³): about
// 125 ms for n = 256 on a 2-core machine, against a few milliseconds for a training
// step. auction is Bertsekas' forward auction with ε-scaling, 3-4× faster on these
// problems (about 1 ms for n = 128), ending at an ε small enough that the assignment is
// optimal to within n·ε of the minimum total cost (see tol): an exact optimum for every
// practical purpose, and checked against Jonker–Volgenant by the tests.
//
// It keeps its buffers between calls; it is not safe for concurrent use.
type auction struct {
	// tol is the final ε of the auction relative to the largest cost: the returned
	// assignment's total cost is at most n·tol·max(cost) above the optimum.
	// Default 1e-9.
	tol float64

	price    []float64
	owner    []int // object → person, −1 if free
	assigned []int // person → object, −1 if free
	queue    []int
}

// assign returns the row → column permutation minimising Σ_i cost[i*n+perm[i]] for a
// dense n×n cost matrix of finite values, written into perm (len n).
func (s *auction) assign(cost []float64, n int, perm []int) {
	if n == 0 {
		return
	}
	if n == 1 {
		perm[0] = 0
		return
	}
	tol := s.tol
	if tol == 0 {
		tol = 1e-9
	}
	if cap(s.price) < n {
		s.price = make([]float64, n)
		s.owner = make([]int, n)
		s.assigned = make([]int, n)
		s.queue = make([]int, 0, n)
	}
	price, assigned := s.price[:n], s.assigned[:n]
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range cost[:n*n] {
		lo = math.Min(lo, c)
		hi = math.Max(hi, c)
	}
	scale := math.Max(hi-lo, 1e-300)
	for j := range price {
		price[j] = 0
	}
	epsFinal := tol * math.Max(math.Abs(hi), scale)
	// Starting at 2% of the cost range (rather than the textbook quarter) saves two
	// phases of price war on batch costs: measured 1.15 ms against 2.1 ms for n = 128.
	eps := scale / 50
	for {
		if eps < epsFinal {
			eps = epsFinal
		}
		s.phase(cost, n, eps)
		if eps == epsFinal {
			break
		}
		eps /= 5
	}
	copy(perm, assigned)
}

// phase runs one auction to completion at a fixed ε, starting from the current prices.
func (s *auction) phase(cost []float64, n int, eps float64) {
	price, owner, assigned := s.price[:n], s.owner[:n], s.assigned[:n]
	for j := range owner {
		owner[j] = -1
		assigned[j] = -1
	}
	q := s.queue[:0]
	for i := n - 1; i >= 0; i-- {
		q = append(q, i)
	}
	for len(q) > 0 {
		i := q[len(q)-1]
		q = q[:len(q)-1]
		row := cost[i*n : (i+1)*n]
		// The best and second-best objects by value −cost − price (maximised), i.e.
		// by cost + price (minimised).
		best, second := math.Inf(1), math.Inf(1)
		bj := -1
		for j, c := range row {
			v := c + price[j]
			if v < second {
				if v < best {
					second = best
					best = v
					bj = j
				} else {
					second = v
				}
			}
		}
		// Raise the price of bj by the margin over the second best, plus ε.
		price[bj] += second - best + eps
		if prev := owner[bj]; prev >= 0 {
			assigned[prev] = -1
			q = append(q, prev)
		}
		owner[bj] = i
		assigned[i] = bj
	}
	s.queue = q
}
