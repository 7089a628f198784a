"""Stand-in for the safetensors package (see ../README.md): save_file only."""
