"""Benchmarks: figures printed by scripts, with ratios against a baseline measured in the same run."""
