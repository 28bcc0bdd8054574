"""Benchmarks. Each prints one JSON line of figures; see the README for what they measure."""
