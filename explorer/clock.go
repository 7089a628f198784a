package explorer

import "math"

// BaseRate is how fast the animation's time runs at speed 1: a quarter of the way
// from noise to data each second, so a whole run takes four seconds when the sampler
// keeps up.
const BaseRate = 0.25

// Clock is the animation's schedule: the time shown, whether it is playing, and how
// fast. It never runs ahead of what the lanes have computed; when they fall behind,
// the animation waits for them.
type Clock struct {
	T       float64 // the time asked for, in [0, End]
	End     float64 // the last time of the run (the path's TMax)
	Playing bool
	Speed   float64 // multiple of BaseRate
}

// Tick advances a playing clock by dt seconds of wall time, no further than limit (the
// earliest frontier of the lanes still computing). It stops playing at End.
func (c *Clock) Tick(dt, limit float64) {
	if !c.Playing || dt <= 0 {
		return
	}
	next := c.T + dt*BaseRate*c.Speed
	if next > limit {
		next = math.Max(c.T, limit)
	}
	if next >= c.End {
		next = c.End
		c.Playing = false
	}
	c.T = next
}

// Seek sets the time, clamped to [0, End]; it does not change Playing.
func (c *Clock) Seek(t float64) {
	if math.IsNaN(t) {
		return
	}
	c.T = math.Max(0, math.Min(t, c.End))
}

// Restart goes back to t = 0 and plays.
func (c *Clock) Restart() {
	c.T = 0
	c.Playing = true
}

// Toggle plays or pauses; playing from the end restarts.
func (c *Clock) Toggle() {
	if c.Playing {
		c.Playing = false
		return
	}
	if c.T >= c.End {
		c.T = 0
	}
	c.Playing = true
}

// StepTo pauses and moves to the first grid time after (dir > 0) or before (dir < 0)
// the current time, on a uniform grid of steps steps over [0, End].
func (c *Clock) StepTo(dir, steps int) {
	c.Playing = false
	if steps < 1 || c.End <= 0 {
		return
	}
	pos := c.T / c.End * float64(steps)
	var k float64
	if dir > 0 {
		k = math.Floor(pos+1e-6) + 1
	} else {
		k = math.Ceil(pos-1e-6) - 1
	}
	k = math.Max(0, math.Min(k, float64(steps)))
	c.T = c.End * k / float64(steps)
}
