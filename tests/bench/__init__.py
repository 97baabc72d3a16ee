"""Benchmarks: scripts that print figures next to their targets (never timed tests)."""
