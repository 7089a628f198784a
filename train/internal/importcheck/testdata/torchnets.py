"""PyTorch side of the import tests (train/internal/importcheck).

    torchnets.py nets OUTDIR    three velocity MLPs with seeded random weights, each saved
                                with safetensors.torch.save_file(model.state_dict(), ...),
                                and their velocities on a batch at several times
                                (OUTDIR/nets.json)
    torchnets.py train DATA OUT STEPS SEED
                                trains TorchCFM's MLP(2, w=64, time_varying=True) by I-CFM
                                on the points in DATA (float32 little-endian, n×2) and saves
                                its state_dict to OUT

The networks are written the way their projects write them: TorchCFM's MLP, called on
torch.cat([x, t], 1); the MLP of facebookresearch/flow_matching's 2-D tutorial
(examples/2d_flow_matching.ipynb), forward(x, t) = main(cat([x, t], 1)) with Swish; and a
third layout, [Fourier features of t, x] into a GELU network, for -order tx and -time
fourier. t = 0 is the noise in all three.
"""
import json
import math
import os
import sys

import torch
from safetensors.torch import save_file
from torchcfm.models import MLP

torch.set_num_threads(1)


class Swish(torch.nn.Module):
    def forward(self, x):
        return torch.sigmoid(x) * x


class FM2D(torch.nn.Module):
    """The flow_matching 2-D tutorial's velocity MLP: four hidden layers, Swish."""

    def __init__(self, input_dim=2, time_dim=1, hidden_dim=128):
        super().__init__()
        self.input_dim, self.time_dim = input_dim, time_dim
        h = hidden_dim
        self.main = torch.nn.Sequential(
            torch.nn.Linear(input_dim + time_dim, h), Swish(),
            torch.nn.Linear(h, h), Swish(),
            torch.nn.Linear(h, h), Swish(),
            torch.nn.Linear(h, h), Swish(),
            torch.nn.Linear(h, input_dim),
        )

    def forward(self, x, t):
        t = t.reshape(-1, 1).expand(x.shape[0], 1)
        return self.main(torch.cat([x, t], dim=1))


class FourierTX(torch.nn.Module):
    """[t, sin 2πkt, cos 2πkt (k = 1 … F), x] into Linear, GELU, Linear, GELU, Linear."""

    def __init__(self, dim, freqs, w):
        super().__init__()
        self.freqs = freqs
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear(1 + 2 * freqs + dim, w), torch.nn.GELU(),
            torch.nn.Linear(w, w), torch.nn.GELU(),
            torch.nn.Linear(w, dim),
        )

    def forward(self, x, t):
        t = t.reshape(-1, 1).expand(x.shape[0], 1).double()
        k = torch.arange(1, self.freqs + 1, dtype=torch.float64)
        a = 2 * math.pi * k * t
        sc = torch.stack([torch.sin(a), torch.cos(a)], dim=2).reshape(x.shape[0], 2 * self.freqs)
        feats = torch.cat([t, sc], dim=1).float()
        return self.mlp(torch.cat([feats, x], dim=1))


def nets(outdir):
    torch.manual_seed(1)
    cfm = MLP(dim=2, w=64, time_varying=True)
    fm2d = FM2D(input_dim=2, time_dim=1, hidden_dim=128)
    ftx = FourierTX(dim=3, freqs=2, w=32)
    models = {
        "torchcfm": (cfm, 2, lambda x, t: cfm(torch.cat([x, t.expand(x.shape[0])[:, None]], 1))),
        "fm2d": (fm2d, 2, lambda x, t: fm2d(x, t)),
        "fouriertx": (ftx, 3, lambda x, t: ftx(x, t)),
    }
    ts = [0.0, 0.1, 0.37, 0.5, 0.9, 1.0]
    out = {"t": ts, "nets": {}}
    gen = torch.Generator().manual_seed(2)
    for name, (model, dim, call) in models.items():
        save_file(model.state_dict(), os.path.join(outdir, name + ".safetensors"))
        x = 2 * torch.randn(256, dim, generator=gen)
        with torch.no_grad():
            v = [call(x, torch.tensor([t], dtype=torch.float32)).flatten().tolist() for t in ts]
        out["nets"][name] = {"dim": dim, "x": x.flatten().tolist(), "v": v}
    with open(os.path.join(outdir, "nets.json"), "w") as f:
        json.dump(out, f)


def train(data, out, steps, seed):
    torch.manual_seed(seed)
    with open(data, "rb") as f:
        x1_all = torch.frombuffer(bytearray(f.read()), dtype=torch.float32).reshape(-1, 2)
    model = MLP(dim=2, w=64, time_varying=True)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    batch = 256
    for _ in range(steps):
        x1 = x1_all[torch.randint(0, x1_all.shape[0], (batch,))]
        x0 = torch.randn_like(x1)
        t = torch.rand(batch)
        xt = t[:, None] * x1 + (1 - t[:, None]) * x0
        ut = x1 - x0
        vt = model(torch.cat([xt, t[:, None]], dim=-1))
        loss = torch.mean((vt - ut) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    save_file(model.state_dict(), out)
    print(f"final loss {loss.item():.4f}")


if __name__ == "__main__":
    if sys.argv[1] == "nets":
        nets(sys.argv[2])
    elif sys.argv[1] == "train":
        train(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit(f"unknown mode {sys.argv[1]!r}")
