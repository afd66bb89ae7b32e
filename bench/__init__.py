"""Benchmarks: `make bench` (python -m bench) prints medians and ratios side by side."""
