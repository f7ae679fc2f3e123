"""Benchmarks of DESIGN section 7 (run: .venv/bin/python -m benchmarks); never part of the test suite."""
