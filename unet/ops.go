package unet

import (
	"math"
)

// The operations work on one level's padded layout of a batch (see geom): blocked
// matrices (a product's operand and result) and planes (GroupNorm's output, the
// im2col's input).

// toPlanes writes n channel-major images x (c × h × w each) into c planes of gm.
func toPlanes(planes, x []float32, gm geom, c int) {
	L := gm.planeLen()
	clear(planes[:c*L])
	for b := range gm.n {
		for ch := range c {
			for y := range gm.h {
				copy(planes[ch*L+gm.margin+gm.pos(b, y, 0):][:gm.w], x[((b*c+ch)*gm.h+y)*gm.w:][:gm.w])
			}
		}
	}
}

// toImages writes the c channels of every image of out (blocked, of stride) into dst,
// n channel-major images.
func toImages(dst, out []float32, stride int, gm geom, c int) {
	for b := range gm.n {
		for ch := range c {
			for y := range gm.h {
				row := dst[((b*c+ch)*gm.h+y)*gm.w:][:gm.w]
				p := gm.pos(b, y, 0)
				for x := range row {
					row[x] = out[at(p+x, ch, stride)]
				}
			}
		}
	}
}

// im2col writes the 3×3 convolution's operand for the positions of groups [g0, g1) of
// gm into a (blocked from group g0, of stride, 9·ci columns): column (ky·3+kx)·ci + c of position p is channel
// c's plane at p + (ky−1)·wp + kx − 1, zero outside the images. Each group's run of a
// column is one copy of G plane values; the padding columns are cleared.
func im2col(a []float32, stride int, planes []float32, gm geom, ci, g0, g1 int) {
	L, k := gm.planeLen(), 9*ci
	for grp := g0; grp < g1; grp++ {
		row := a[(grp-g0)*stride : (grp-g0+1)*stride]
		p0 := gm.margin + grp*G
		for kp := range 9 {
			off := p0 + (kp/3-1)*gm.wp + kp%3 - 1
			col := row[kp*ci*G : (kp+1)*ci*G]
			for c := range ci {
				copyG((*[G]float32)(col[c*G:]), (*[G]float32)(planes[c*L+off:]))
			}
		}
		clear(row[k*G:])
	}
}

// permute3 returns a 3×3 convolution's weight, PyTorch's [co, ci, 3, 3], in the
// im2col's column order, [co, 3, 3, ci].
func permute3(w []float32, co, ci int) []float32 {
	p := make([]float32, len(w))
	for o := range co {
		for c := range ci {
			for k := range 9 {
				p[(o*9+k)*ci+c] = w[(o*ci+c)*9+k]
			}
		}
	}
	return p
}

// gnStats sets scale and shift (n × c) so that v·scale + shift is PyTorch's
// GroupNorm(groups, c, eps=1e-5) with the affine gamma and beta, over each image's
// pixels of x (blocked, of stride). With add not nil it first adds add[b·c + ch] to
// image b's channel ch in x, in place (the embedding's shift). The moments are
// accumulated in float64 in one pass, of each value less the first pixel's value of
// its group's first channel in that image, so the variance does not cancel; the
// variance is biased. st is scratch of at least 3·n·c values.
func gnStats(scale, shift, x []float32, stride int, gm geom, c, groups int, gamma, beta, add []float32, st []float64) {
	n, cg := gm.n, c/groups
	s1, s2, ref := st[:n*c], st[n*c:2*n*c], st[2*n*c:3*n*c]
	clear(s1)
	clear(s2)
	for b := range n {
		p := gm.pos(b, 0, 0)
		for ch := range c {
			g0 := ch - ch%cg
			v := x[at(p, g0, stride)]
			if add != nil {
				v += add[b*c+g0]
			}
			ref[b*c+ch] = float64(v)
		}
	}
	gm.runs(func(b, p, m int) {
		base := p/G*stride + p%G
		for ch := range c {
			seg := x[base+ch*G : base+ch*G+m]
			k := ref[b*c+ch]
			var a1, a2 float64
			if add != nil {
				a := add[b*c+ch]
				for i, v := range seg {
					v += a
					seg[i] = v
					d := float64(v) - k
					a1 += d
					a2 += d * d
				}
			} else {
				for _, v := range seg {
					d := float64(v) - k
					a1 += d
					a2 += d * d
				}
			}
			s1[b*c+ch] += a1
			s2[b*c+ch] += a2
		}
	})
	cnt := float64(gm.h * gm.w * cg)
	for b := range n {
		for g := range groups {
			var t1, t2 float64
			for ch := g * cg; ch < (g+1)*cg; ch++ {
				t1 += s1[b*c+ch]
				t2 += s2[b*c+ch]
			}
			m1 := t1 / cnt
			mean := ref[b*c+g*cg] + m1
			inv := 1 / math.Sqrt(max(t2/cnt-m1*m1, 0)+1e-5)
			for ch := g * cg; ch < (g+1)*cg; ch++ {
				sc := float32(inv) * gamma[ch]
				scale[b*c+ch], shift[b*c+ch] = sc, beta[ch]-float32(mean)*sc
			}
		}
	}
}

// gnApply writes SiLU(v·scale + shift) of each image's pixels of x (blocked, of
// stride; scale and shift n × c, from gnStats) into c planes of gm, zero elsewhere.
// Each run goes through normSiLURun rounded up to whole vectors of 4: the up to 3 values
// past its end, computed from whatever follows in x, land on positions that a later
// run overwrites (the same channel's runs go in increasing position) or on padding,
// which is cleared again after.
func gnApply(planes, x []float32, stride int, gm geom, c int, scale, shift []float32) {
	L := gm.planeLen()
	clear(planes[:c*L])
	gm.runs(func(b, p, m int) {
		normSiLURun(planes[gm.margin+p:], L, x[p/G*stride+p%G:], (m+3)&^3, scale[b*c:(b+1)*c], shift[b*c:(b+1)*c])
	})
	// The spill reaches at most 3 positions past a pixel row: its padding column, and
	// after an image's last row the first 2 of the padding row below.
	for ch := range c {
		pl := planes[ch*L+gm.margin:]
		for b := range gm.n {
			for y := range gm.h {
				pl[gm.pos(b, y, gm.w)] = 0
			}
			q := gm.pos(b, gm.h, 0)
			clear(pl[q : q+2])
		}
	}
}

// addInto sets dst[i] += src[i].
func addInto(dst, src []float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += v
	}
}

// clearPadding zeros the padding columns (c up to the stride) of every group of a
// blocked matrix that is a product's operand.
func clearPadding(x []float32, stride, groups, c int) {
	for grp := range groups {
		clear(x[grp*stride+c*G : (grp+1)*stride])
	}
}

// avgPool2 is PyTorch's avg_pool2d(·, 2) from src (blocked, geometry gs, of stride
// ss) into dst (gd, half the size, stride sd), c channels.
func avgPool2(dst []float32, sd int, gd geom, src []float32, ss int, gs geom, c int) {
	clearPadding(dst, sd, gd.groups, c)
	for b := range gd.n {
		for y := range gd.h {
			for x := range gd.w {
				p, q := gd.pos(b, y, x), gs.pos(b, 2*y, 2*x)
				for ch := range c {
					dst[at(p, ch, sd)] = (src[at(q, ch, ss)] + src[at(q+1, ch, ss)] +
						src[at(q+gs.wp, ch, ss)] + src[at(q+gs.wp+1, ch, ss)]) * 0.25
				}
			}
		}
	}
}

// upcat is PyTorch's cat([interpolate(src, scale_factor=2), skip], 1) into dst
// (blocked, geometry gd, stride sd): the first ca channels from src (gs, half the
// size, stride ss), nearest, then skip's cb channels (gd, stride ks), a copy per group.
func upcat(dst []float32, sd int, gd geom, src []float32, ss int, gs geom, ca int, skip []float32, ks, cb int) {
	for grp := range gd.groups {
		copy(dst[grp*sd+ca*G:grp*sd+(ca+cb)*G], skip[grp*ks:grp*ks+cb*G])
	}
	clearPadding(dst, sd, gd.groups, ca+cb)
	for b := range gd.n {
		for y := range gd.h {
			for x := range gd.w {
				p, q := gd.pos(b, y, x), gs.pos(b, y/2, x/2)
				for ch := range ca {
					dst[at(p, ch, sd)] = src[at(q, ch, ss)]
				}
			}
		}
	}
}

// TimeFeatures writes pytorch_fmnist.py's sinusoidal features of each t into dst
// (n × f): with half = f/2 and φ_k = 1000·t·exp(−ln(10⁴)·k/half), sin φ_0 … sin φ_{half−1},
// then cos φ_0 … cos φ_{half−1}; computed in float64.
func TimeFeatures(dst []float32, t []float64, f int) {
	half := f / 2
	for b, tb := range t {
		row := dst[b*f : (b+1)*f]
		for k := range half {
			phi := 1000 * tb * math.Exp(-math.Log(10000)*float64(k)/float64(half))
			row[k], row[half+k] = float32(math.Sin(phi)), float32(math.Cos(phi))
		}
	}
}

// catSame is cat([a, b], 1) for two blocked matrices of the same geometry (groups
// groups): ca then cb channels, a copy per group.
func catSame(dst []float32, sd int, a []float32, as, ca int, b []float32, bs, cb, groups int) {
	for grp := range groups {
		copy(dst[grp*sd:grp*sd+ca*G], a[grp*as:grp*as+ca*G])
		copy(dst[grp*sd+ca*G:grp*sd+(ca+cb)*G], b[grp*bs:grp*bs+cb*G])
	}
	clearPadding(dst, sd, groups, ca+cb)
}
