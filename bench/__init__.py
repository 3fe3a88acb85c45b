"""Benchmarks: figures printed by scripts, with ratios to a baseline measured in the same run."""
