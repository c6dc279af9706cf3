"""Concurrent 1080p25 camera streams one machine analyses in real time.

Run `python -m benchmarks.streams --help`; `cli` explains every column.
"""
