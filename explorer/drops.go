package explorer

import (
	"math"
	"math/rand/v2"
)

// drop is a group of particles dropped at a point of the plane, at a time.
type drop struct {
	x, y, t float64
	seed    uint64
	r, g, b float32
}

// dropState is the dropped groups, the same in every panel, and what the next drop gets.
type dropState struct {
	list    []drop // at most MaxDrops, oldest first
	seed    uint64 // the last drop's seed
	nextHue float64
}

// groupLanes are one dropped group in one panel: integrated back to the start and on
// to the end. Both are nil where the panel's model is not 2-D.
type groupLanes struct {
	back, fwd *Lane
}

// DropAt drops a group of particles at a screen point (a click or a tap), in whichever
// panel holds it. It reports whether the point was in a panel.
func (a *App) DropAt(sx, sy float64) bool {
	for _, ls := range a.lanes {
		if ls.lane != nil && ls.twoD() && ls.view.Port.Contains(sx, sy) && ls.view.Half > 0 {
			x, y := ls.view.ToData(sx, sy)
			a.Drop(x, y)
			return true
		}
	}
	return false
}

// Drop adds a group of DropSize particles around the data point (x, y) at the time
// shown, to every panel. Each group is integrated backwards to t = 0 and forwards to
// the end, so it shows where those particles came from and where they go.
func (a *App) Drop(x, y float64) {
	ds := &a.drops
	if len(ds.list) >= MaxDrops {
		ds.list = ds.list[1:]
		for _, ls := range a.lanes {
			if len(ls.groups) > 0 {
				ls.groups = ls.groups[1:]
			}
		}
	}
	ds.seed++
	ds.nextHue += 2.39996 // the golden angle: well-separated colours
	r, g, b := Hue(ds.nextHue, 0.85)
	t := 0.0
	if len(a.lanes) > 0 && a.lanes[0].lane != nil {
		t = a.shownT(a.lanes[0])
	}
	dr := drop{x: x, y: y, t: t, seed: ds.seed, r: r, g: g, b: b}
	ds.list = append(ds.list, dr)
	for _, ls := range a.lanes {
		if ls.lane != nil {
			ls.groups = append(ls.groups, a.groupFor(ls, dr))
		}
	}
}

// clearDrops removes every dropped group.
func (a *App) clearDrops() {
	a.drops.list = nil
	for _, ls := range a.lanes {
		ls.groups = nil
	}
}

// groupFor integrates a drop's particles in a lane's field; a lane whose model is not
// 2-D gets an empty group (drops are points of the plane), which keeps its groups in
// step with the drops.
func (a *App) groupFor(ls *laneState, dr drop) groupLanes {
	if !ls.twoD() {
		return groupLanes{}
	}
	rng := rand.New(rand.NewPCG(dr.seed, 0xd809))
	spread := 0.035 * math.Max(ls.half, 1)
	x0 := make([]float32, PlotDim*DropSize)
	for i := 0; i < DropSize; i++ {
		x0[2*i] = float32(dr.x + spread*rng.NormFloat64())
		x0[2*i+1] = float32(dr.y + spread*rng.NormFloat64())
	}
	l := ls.lane
	end := l.T1()
	t := math.Min(dr.t, end)
	var g groupLanes
	stepsFor := func(span float64) int {
		return max(1, int(math.Round(float64(l.Steps())*span/(end-l.T0()))))
	}
	if t-l.T0() > 1e-9 {
		g.back, _ = NewLane(ls.vf, l.Method(), stepsFor(t-l.T0()), t, l.T0(), x0)
	}
	if end-t > 1e-9 {
		g.fwd, _ = NewLane(ls.vf, l.Method(), stepsFor(end-t), t, end, x0)
	}
	return g
}
