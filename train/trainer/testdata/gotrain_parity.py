# gotrain_parity.py: the CFM loss's gradient and two training steps of an MLP in
# PyTorch (autograd, clip_grad_norm_, torch.optim.AdamW, an EMA by lerp_), for
# gotrain_parity_test.go. Reads a JSON problem on stdin, writes a JSON answer.
import json
import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
pb = json.load(sys.stdin)
flat = torch.tensor(pb["p0"], dtype=torch.float32)
layers, off = [], 0
for out, inp in pb["shapes"]:
    lin = torch.nn.Linear(inp, out)
    with torch.no_grad():
        lin.weight.copy_(flat[off:off + out * inp].view(out, inp))
        off += out * inp
        lin.bias.copy_(flat[off:off + out])
        off += out
    layers.append(lin)
mods = []
for i, lin in enumerate(layers):
    mods.append(lin)
    if i < len(layers) - 1:
        mods.append(torch.nn.SiLU())
net = torch.nn.Sequential(*mods)
params = [p for lin in layers for p in (lin.weight, lin.bias)]


def batch(k):
    b = pb["batches"][k]
    x = torch.tensor(b["x"], dtype=torch.float32).view(pb["batch"], -1)
    u = torch.tensor(b["u"], dtype=torch.float32).view(pb["batch"], -1)
    return x, u


def flatten(ts):
    return torch.cat([t.detach().reshape(-1) for t in ts]).tolist()


ans = {}
x, u = batch(0)
loss = F.mse_loss(net(x), u)
loss.backward()
ans["loss0"] = loss.item()
ans["grad0"] = flatten([p.grad for p in params])

opt = torch.optim.AdamW(params, lr=pb["lrs"][0], betas=(pb["beta1"], pb["beta2"]),
                        eps=pb["eps"], weight_decay=pb["wd"])
ema = [p.detach().clone() for p in params]
ans["p"], ans["e"] = [], []
for k in range(len(pb["batches"])):
    opt.zero_grad()
    x, u = batch(k)
    F.mse_loss(net(x), u).backward()
    torch.nn.utils.clip_grad_norm_(params, pb["clip"])
    for g in opt.param_groups:
        g["lr"] = pb["lrs"][k]
    opt.step()
    with torch.no_grad():
        for e, p in zip(ema, params):
            e.lerp_(p, 1 - pb["decays"][k])
    ans["p"].append(flatten(params))
    ans["e"].append(flatten(ema))
json.dump(ans, sys.stdout)
