"""Generated inputs for the whole-build benchmark (make bench)."""
