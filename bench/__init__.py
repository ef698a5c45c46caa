"""Benchmarks: scripts that print figures (make bench). No timed assertions live in tests."""
