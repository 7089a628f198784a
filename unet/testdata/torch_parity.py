"""PyTorch's forward pass of pytorch_fmnist.py's U-Net, for unet's TestTorchParity.

Reads a JSON file (argv[1]): {"channels": C, "tensors": {name: flat values} in the unet
package's names, "x": n x 784, "t": n, "y": n}; loads the tensors into the reference
module (its classes copied verbatim from ../shared/bench/pytorch_fmnist.py) after
renaming the package's block prefixes to the module's (down.0.0 -> d1, ...), with
load_state_dict(strict=True), so any name or shape that differs is an error; prints
the module's output, n x 784, as JSON.
"""
import json, math, sys
import torch, torch.nn as nn, torch.nn.functional as F

# --- verbatim from pytorch_fmnist.py ---
def temb(t, dim):
    half = dim // 2
    f = torch.exp(-math.log(10000) * torch.arange(half) / half)
    a_ = t[:, None] * 1000 * f[None]
    return torch.cat([a_.sin(), a_.cos()], 1)

class Res(nn.Module):
    def __init__(s, ci, co, e):
        super().__init__()
        s.n1, s.c1 = nn.GroupNorm(min(8, ci), ci), nn.Conv2d(ci, co, 3, padding=1)
        s.e = nn.Linear(e, co)
        s.n2, s.c2 = nn.GroupNorm(min(8, co), co), nn.Conv2d(co, co, 3, padding=1)
        s.sk = nn.Conv2d(ci, co, 1) if ci != co else nn.Identity()
    def forward(s, x, e):
        h = s.c1(F.silu(s.n1(x))) + s.e(e)[:, :, None, None]
        return s.c2(F.silu(s.n2(h))) + s.sk(x)

class UNet(nn.Module):
    def __init__(s, C):
        super().__init__()
        E = 4 * C
        s.C, s.t = C, nn.Sequential(nn.Linear(C, E), nn.SiLU(), nn.Linear(E, E))
        s.y = nn.Embedding(11, E)
        s.inp = nn.Conv2d(1, C, 3, padding=1)
        s.d1, s.d2, s.d3 = Res(C, C, E), Res(C, 2 * C, E), Res(2 * C, 2 * C, E)
        s.mid = Res(2 * C, 2 * C, E)
        s.u3, s.u2, s.u1 = Res(4 * C, 2 * C, E), Res(4 * C, 2 * C, E), Res(3 * C, C, E)
        s.out = nn.Sequential(nn.GroupNorm(8, C), nn.SiLU(), nn.Conv2d(C, 1, 3, padding=1))
    def forward(s, x, t, y):
        e = s.t(temb(t, s.C)) + s.y(y)
        h1 = s.d1(s.inp(x), e)
        h2 = s.d2(F.avg_pool2d(h1, 2), e)
        h3 = s.d3(F.avg_pool2d(h2, 2), e)
        u = s.u3(torch.cat([s.mid(h3, e), h3], 1), e)
        u = s.u2(torch.cat([F.interpolate(u, scale_factor=2), h2], 1), e)
        u = s.u1(torch.cat([F.interpolate(u, scale_factor=2), h1], 1), e)
        return s.out(u)
# --- end of the verbatim part ---

RENAME = {"down.0.0.": "d1.", "down.1.0.": "d2.", "down.2.0.": "d3.",
          "up.2.0.": "u3.", "up.1.0.": "u2.", "up.0.0.": "u1."}

def main():
    with open(sys.argv[1]) as f:
        job = json.load(f)
    net = UNet(job["channels"])
    shapes = {k: v.shape for k, v in net.state_dict().items()}
    sd = {}
    for name, vals in job["tensors"].items():
        for a, b in RENAME.items():
            if name.startswith(a):
                name = b + name[len(a):]
        if name not in shapes:
            raise SystemExit(f"tensor {name} is not in the reference module's state_dict")
        sd[name] = torch.tensor(vals, dtype=torch.float32).reshape(shapes[name])
    net.load_state_dict(sd, strict=True)
    order = list(shapes)
    with torch.no_grad():
        x = torch.tensor(job["x"], dtype=torch.float32).reshape(-1, 1, 28, 28)
        v = net(x, torch.tensor(job["t"], dtype=torch.float32), torch.tensor(job["y"], dtype=torch.int64))
    json.dump({"v": v.reshape(len(x), -1).tolist(), "order": order}, sys.stdout)

main()
