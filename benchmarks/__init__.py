"""Speed and memory harnesses; each prints one table and never asserts on wall time.

Run from the repository root, e.g. `.venv/bin/python -m benchmarks.bench_bus --help`. The
recorded numbers and the commands that produced them are in `docs/PERFORMANCE.md`.
"""
