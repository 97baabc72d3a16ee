"""Bandeau's test suite."""
