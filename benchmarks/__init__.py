"""Measurements behind BENCHMARKS.md; each module runs as a script."""
