"""Scripts that tests run in child processes (resource limits, other users)."""
