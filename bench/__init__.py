"""Benchmarks: `python -m bench.home` (or `make bench`)."""
