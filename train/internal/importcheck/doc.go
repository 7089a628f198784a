// Package importcheck holds the tests of `flowmatch import` against PyTorch itself:
// networks built and trained in PyTorch, saved as their projects save them
// (safetensors.torch.save_file(model.state_dict(), …)), imported, and sampled in pure
// Go. It has no code of its own; the tests need Python with torch (Debian's
// python3-torch) and skip, saying so, without it.
//
// testdata/torchnets.py is the PyTorch side. testdata/pyshim stands in for the
// safetensors and torchcfm Python packages where they are not installed (it goes at
// the end of PYTHONPATH, so installed packages win).
package importcheck
