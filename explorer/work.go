package explorer

import "math"

// limit is how far the clock may run: the earliest frontier of a lane still computing.
func (a *App) limit() float64 {
	if a.s.Mode == ModeImages {
		return a.imgLimit()
	}
	lim := math.Inf(1)
	for _, ls := range a.lanes {
		if ls.lane == nil {
			return 0
		}
		if !ls.lane.Done() {
			lim = math.Min(lim, ls.lane.Frontier())
		}
	}
	return lim
}

// chunkTarget is how long one piece of work should take: short enough that a frame's
// budget is never overshot by much, long enough that timing it is meaningful (browsers
// round their clocks to 0.1 ms).
const chunkTarget = 0.002

// spend runs f in pieces of about chunkTarget seconds until sec seconds have passed, f
// has nothing left to do, or 64 pieces are done. f takes a number of
// particle-evaluations to do and returns how many it did. The piece size adapts to the
// measured cost, so that the work fits the frame whatever the model's size.
func (a *App) spend(sec float64, f func(units int) int) {
	chunk := &a.timing.chunk
	if *chunk == 0 {
		*chunk = 64
	}
	t0 := a.seconds()
	for i := 0; i < 64; i++ {
		t1 := a.seconds()
		n := f(*chunk)
		if n == 0 {
			return
		}
		t2 := a.seconds()
		if el := t2 - t1; el < chunkTarget/4 {
			*chunk = min(2**chunk, 1<<20)
		} else {
			want := int(float64(n) * chunkTarget / el)
			*chunk = min(max(want, *chunk/2, 1), 2**chunk, 1<<20)
		}
		if t2-t0 >= sec {
			return
		}
	}
}

// work spends up to budget seconds: dropped groups first (small), then the lanes,
// with overlays (vector field, density) taking about a third when they have work.
func (a *App) work(budget float64) {
	t0 := a.seconds()
	left := func() float64 { return budget - (a.seconds() - t0) }
	a.imgWork(budget)
	for _, ls := range a.lanes {
		for _, g := range ls.groups {
			for _, l := range []*Lane{g.back, g.fwd} {
				if l != nil && !l.Done() && left() > 0 {
					a.spend(left(), l.Advance)
				}
			}
		}
	}
	overlays := a.overlayTasks()
	share := 1.0
	if len(overlays) > 0 {
		share = 0.65
	}
	var active []*laneState
	for _, ls := range a.lanes {
		if ls.lane != nil && !ls.lane.Done() {
			active = append(active, ls)
		}
	}
	for _, ls := range active {
		if l := left(); l > 0 {
			a.spend(l*share/float64(len(active)), ls.lane.Advance)
		}
	}
	for i, f := range overlays {
		if l := left(); l > 0 {
			a.spend(l/float64(len(overlays)-i), f)
		}
	}
}

// overlayTasks lists the pending overlay work as functions of a unit budget: the
// vector field and the learned density of each 2-D lane that shows them.
func (a *App) overlayTasks() []func(int) int {
	var out []func(int) int
	for _, ls := range a.lanes {
		if ls.lane == nil || !ls.twoD() {
			continue
		}
		if a.s.Field {
			if f := a.fieldTask(ls); f != nil {
				out = append(out, f)
			}
		}
		if a.s.Density {
			if f := a.densityTask(ls); f != nil {
				out = append(out, f)
			}
		}
	}
	return out
}

// fieldTask starts a new grid of arrows when the shown time or the view has moved, and
// returns the work left on the grid being computed (nil: none).
func (a *App) fieldTask(ls *laneState) func(int) int {
	ov := &ls.ov
	t := a.shownT(ls)
	box := a.viewBox(ls)
	if ov.fieldN == nil && (ov.field == nil || ov.field.T != t || ov.field.Box != box) {
		ov.fieldN = NewFieldGrid(ls.vf, FieldArrows, t, box)
	}
	g := ov.fieldN
	if g == nil {
		return nil
	}
	return func(u int) int {
		n := g.Advance(u)
		if g.Ready() {
			ov.field, ov.fieldN = g, nil
		}
		return n
	}
}

// densityTask starts the model's learned-density grid, over a box that holds the data,
// and returns the work left on it (nil: none).
func (a *App) densityTask(ls *laneState) func(int) int {
	sl := a.models[ls.spec.model]
	if sl.density == nil {
		ext := 4.0
		if ds := a.data[ls.model.Dataset]; ds != nil && ds.ext > 0 {
			ext = 1.3 * ds.ext // a margin, so that the box edge falls where the density is ~0
		}
		sl.density = NewDensityGrid(ls.model, DensityCells, Box{-ext, -ext, ext, ext})
	}
	if g := sl.density; !g.Ready() {
		return g.Advance
	}
	return nil
}
