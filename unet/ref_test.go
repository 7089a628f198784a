package unet

import "math"

// A straightforward float64 U-Net, written from the PyTorch module (pytorch_fmnist.py's
// UNet generalised as in the package doc), one sample at a time in CHW layout with
// direct loops: the reference the Go network is tested against.

type img64 struct {
	c, h, w int
	v       []float64 // c × h × w
}

func (a img64) at(c, y, x int) float64 {
	if y < 0 || y >= a.h || x < 0 || x >= a.w {
		return 0
	}
	return a.v[(c*a.h+y)*a.w+x]
}

func refConv(x img64, w, b []float32, co, k int) img64 {
	o := img64{co, x.h, x.w, make([]float64, co*x.h*x.w)}
	pad := k / 2
	for oc := range co {
		for y := range x.h {
			for xx := range x.w {
				s := float64(b[oc])
				for ic := range x.c {
					for dy := range k {
						for dx := range k {
							s += float64(w[((oc*x.c+ic)*k+dy)*k+dx]) * x.at(ic, y+dy-pad, xx+dx-pad)
						}
					}
				}
				o.v[(oc*x.h+y)*x.w+xx] = s
			}
		}
	}
	return o
}

func refGroupNorm(x img64, gamma, beta []float32, groups int) img64 {
	o := img64{x.c, x.h, x.w, make([]float64, len(x.v))}
	cg, hw := x.c/groups, x.h*x.w
	for g := range groups {
		part := x.v[g*cg*hw : (g+1)*cg*hw]
		var mean, vr float64
		for _, v := range part {
			mean += v
		}
		mean /= float64(len(part))
		for _, v := range part {
			vr += (v - mean) * (v - mean)
		}
		vr /= float64(len(part))
		for i := range part {
			c := g*cg + i/hw
			o.v[g*cg*hw+i] = (part[i]-mean)/math.Sqrt(vr+1e-5)*float64(gamma[c]) + float64(beta[c])
		}
	}
	return o
}

func refSiLU(x img64) img64 {
	o := img64{x.c, x.h, x.w, make([]float64, len(x.v))}
	for i, v := range x.v {
		o.v[i] = v / (1 + math.Exp(-v))
	}
	return o
}

func refLinear(x []float64, w, b []float32, out int) []float64 {
	o := make([]float64, out)
	for i := range out {
		o[i] = float64(b[i])
		for j, v := range x {
			o[i] += float64(w[i*len(x)+j]) * v
		}
	}
	return o
}

func refPool(x img64) img64 {
	o := img64{x.c, x.h / 2, x.w / 2, make([]float64, x.c*x.h/2*x.w/2)}
	for c := range x.c {
		for y := range o.h {
			for xx := range o.w {
				o.v[(c*o.h+y)*o.w+xx] = (x.at(c, 2*y, 2*xx) + x.at(c, 2*y+1, 2*xx) + x.at(c, 2*y, 2*xx+1) + x.at(c, 2*y+1, 2*xx+1)) / 4
			}
		}
	}
	return o
}

func refUp(x img64) img64 {
	o := img64{x.c, 2 * x.h, 2 * x.w, make([]float64, 4*len(x.v))}
	for c := range x.c {
		for y := range o.h {
			for xx := range o.w {
				o.v[(c*o.h+y)*o.w+xx] = x.at(c, y/2, xx/2)
			}
		}
	}
	return o
}

func refCat(a, b img64) img64 {
	return img64{a.c + b.c, a.h, a.w, append(append([]float64{}, a.v...), b.v...)}
}

func refTime(t float64, f int) []float64 {
	half, o := f/2, make([]float64, f)
	for k := range half {
		phi := 1000 * t * math.Exp(-math.Log(10000)*float64(k)/float64(half))
		o[k], o[half+k] = math.Sin(phi), math.Cos(phi)
	}
	return o
}

type refNet struct {
	c    Config
	w    map[string][]float32
	macs *int64 // counts the multiply-adds of convolutions and Linear layers, when not nil
}

func (r refNet) conv(x img64, w, b []float32, co, k int) img64 {
	if r.macs != nil {
		*r.macs += int64(co * x.h * x.w * x.c * k * k)
	}
	return refConv(x, w, b, co, k)
}

func (r refNet) linear(x []float64, w, b []float32, out int) []float64 {
	if r.macs != nil {
		*r.macs += int64(out * len(x))
	}
	return refLinear(x, w, b, out)
}

func (r refNet) res(name string, x img64, e []float64, co int) img64 {
	p := name + "."
	h := r.conv(refSiLU(refGroupNorm(x, r.w[p+"n1.weight"], r.w[p+"n1.bias"], min(r.c.Groups, x.c))), r.w[p+"c1.weight"], r.w[p+"c1.bias"], co, 3)
	sh := r.linear(e, r.w[p+"e.weight"], r.w[p+"e.bias"], co)
	for i := range h.v {
		h.v[i] += sh[i/(h.h*h.w)]
	}
	o := r.conv(refSiLU(refGroupNorm(h, r.w[p+"n2.weight"], r.w[p+"n2.bias"], min(r.c.Groups, co))), r.w[p+"c2.weight"], r.w[p+"c2.bias"], co, 3)
	sk := x
	if x.c != co {
		sk = r.conv(x, r.w[p+"sk.weight"], r.w[p+"sk.bias"], co, 1)
	}
	for i := range o.v {
		o.v[i] += sk.v[i]
	}
	return o
}

// forward is v(x, t, label) for one sample x (CHW).
func (r refNet) forward(x []float32, t float64, label int) []float64 {
	c, E := r.c, r.c.Emb
	hid := r.linear(refTime(t, c.TimeFeatures), r.w["t.0.weight"], r.w["t.0.bias"], E)
	for i, v := range hid {
		hid[i] = v / (1 + math.Exp(-v))
	}
	e := r.linear(hid, r.w["t.2.weight"], r.w["t.2.bias"], E)
	for i := range e {
		e[i] += float64(r.w["y.weight"][label*E+i])
	}
	in := img64{c.Shape[0], c.Shape[1], c.Shape[2], make([]float64, len(x))}
	for i, v := range x {
		in.v[i] = float64(v)
	}
	h := r.conv(in, r.w["inp.weight"], r.w["inp.bias"], c.Channels*c.Mult[0], 3)
	var skips []img64
	for i, m := range c.Mult {
		if i > 0 {
			h = refPool(h)
		}
		for j := range c.Blocks {
			h = r.res(fmtName("down", i, j), h, e, c.Channels*m)
		}
		skips = append(skips, h)
	}
	h = r.res("mid", h, e, h.c)
	for i := len(c.Mult) - 1; i >= 0; i-- {
		if i < len(c.Mult)-1 {
			h = refUp(h)
		}
		h = refCat(h, skips[i])
		for j := range c.Blocks {
			h = r.res(fmtName("up", i, j), h, e, c.Channels*c.Mult[i])
		}
	}
	h = refSiLU(refGroupNorm(h, r.w["out.0.weight"], r.w["out.0.bias"], min(c.Groups, h.c)))
	return r.conv(h, r.w["out.2.weight"], r.w["out.2.bias"], c.Shape[0], 3).v
}

func fmtName(kind string, i, j int) string {
	return kind + "." + string(rune('0'+i)) + "." + string(rune('0'+j))
}
