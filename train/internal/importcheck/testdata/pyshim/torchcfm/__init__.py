"""Stand-in for TorchCFM (see ../README.md): torchcfm.models.MLP only."""
