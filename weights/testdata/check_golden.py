#!/usr/bin/python3
"""Reads flowmatch model files with standard tooling, independently of the Go code:
the safetensors package if installed, else a plain numpy parse of the safetensors
layout. Prints, as JSON, each file's metadata and tensors (values as float64 lists).

Run: /usr/bin/python3 weights/testdata/check_golden.py FILE...
(go test ./weights -run TestGoldenPython runs it and compares with the Go decoder.)
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2")}


def load_numpy(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n <= 100_000_000, "header too large"
    header = raw[8 : 8 + n]
    assert header[:1] == b"{", "header must start with {"
    meta = json.loads(header.decode("utf-8"))
    metadata = meta.pop("__metadata__", {})
    assert all(isinstance(v, str) for v in metadata.values()), "metadata values must be strings"
    buf = raw[8 + n :]
    tensors = {}
    end = 0
    for name, info in sorted(meta.items(), key=lambda kv: kv[1]["data_offsets"]):
        b, e = info["data_offsets"]
        assert b == end, "tensors must tile the buffer"
        end = e
        dt = DTYPES[info["dtype"]]
        arr = np.frombuffer(buf[b:e], dtype=dt).reshape(info["shape"])
        tensors[name] = arr
    assert end == len(buf), "trailing bytes"
    return metadata, tensors


def load(path):
    try:
        from safetensors import safe_open
    except ImportError:
        return "numpy", *load_numpy(path)
    with safe_open(path, framework="np") as f:
        return "safetensors", f.metadata(), {k: f.get_tensor(k) for k in f.keys()}


out = {}
for path in sys.argv[1:]:
    how, metadata, tensors = load(path)
    out[path] = {
        "reader": how,
        "metadata": metadata,
        "tensors": {
            k: {"dtype": str(v.dtype), "shape": list(v.shape), "values": v.astype(np.float64).ravel().tolist()}
            for k, v in tensors.items()
        },
    }
json.dump(out, sys.stdout)
