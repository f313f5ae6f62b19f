"""Benchmarks: `make bench` runs every scenario; `python -m bench.run --smoke` keeps the harness honest."""
