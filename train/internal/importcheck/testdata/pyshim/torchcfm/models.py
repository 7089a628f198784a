"""Stand-in for torchcfm.models.MLP (see ../README.md): the same layers, the same names."""
import torch


class MLP(torch.nn.Module):
    def __init__(self, dim, out_dim=None, w=64, time_varying=False):
        super().__init__()
        self.time_varying = time_varying
        out_dim = dim if out_dim is None else out_dim
        inp = dim + (1 if time_varying else 0)
        self.net = torch.nn.Sequential(
            torch.nn.Linear(inp, w), torch.nn.SELU(),
            torch.nn.Linear(w, w), torch.nn.SELU(),
            torch.nn.Linear(w, w), torch.nn.SELU(),
            torch.nn.Linear(w, out_dim),
        )

    def forward(self, x):
        return self.net(x)
