#!/usr/bin/python3
"""Writes f16_numpy.txt: float32 bit patterns and numpy's float16 rounding of each,
an independent reference for weights.Float16Bits (go test -run TestFloat16Numpy).

Run: /usr/bin/python3 weights/testdata/gen_f16_table.py > weights/testdata/f16_numpy.txt
"""
import numpy as np

rng = np.random.default_rng(20261129)
parts = [
    rng.integers(0, 2**32, 3000, dtype=np.uint64).astype(np.uint32),  # any pattern
    rng.uniform(-70000, 70000, 1000).astype(np.float32).view(np.uint32),  # around the top of the range
    rng.uniform(-1e-4, 1e-4, 1000).astype(np.float32).view(np.uint32),  # subnormal and small normal halves
    rng.uniform(-1e-7, 1e-7, 500).astype(np.float32).view(np.uint32),  # underflow to zero
    rng.normal(0, 0.1, 1000).astype(np.float32).view(np.uint32),  # typical weights
]
# Exact ties and their neighbours: midpoints between adjacent halves.
h = rng.integers(0, 0x7bff, 1000, dtype=np.uint64).astype(np.uint16)
lo = h.view(np.float16).astype(np.float32)
hi = (h + 1).view(np.float16).astype(np.float32)
mid = ((lo.astype(np.float64) + hi.astype(np.float64)) / 2).astype(np.float32)
parts += [mid.view(np.uint32), mid.view(np.uint32) + 1, mid.view(np.uint32) - 1]
edges = np.array([0.0, -0.0, 1.0, -1.0, 65504, 65519.996, 65520, 65536, 1e9, np.inf, -np.inf,
                  2**-24, 2**-25, 2**-25 * 1.0000001, 2**-14, 2**-14 - 2**-25, 3 * 2**-26, 1.5 * 2**-24,
                  np.finfo(np.float32).max, np.finfo(np.float32).tiny, 1e-45], dtype=np.float32)
parts.append(edges.view(np.uint32))
bits = np.concatenate(parts).astype(np.uint32)
with np.errstate(over="ignore", invalid="ignore"):
    halves = bits.view(np.float32).astype(np.float16).view(np.uint16)
print("# float32 bits, numpy %s float16 bits (NaN inputs left out)" % np.__version__)
for b, hh in zip(bits, halves):
    if np.isnan(b.view(np.float32)):
        continue
    print("%08x %04x" % (b, hh))
