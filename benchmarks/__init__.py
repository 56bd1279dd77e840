"""Benchmarks of execlog-otel: ``python -m benchmarks [--size smoke|1m|10m] [--only ...] [--out FILE]``.

Each measurement runs in its own Python process (chDB allows one engine and data
directory per process, and a fresh process keeps one measurement's caches and
threads out of the next) and prints one JSON line; ``__main__`` collects them
into a Markdown table with medians, spread and the ratio to a baseline taken in
the same run. The machine is small and shared, so ratios matter more than
absolute figures.
"""
