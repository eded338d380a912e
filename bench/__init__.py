"""Benchmarks (run as scripts or with python -m bench.<name>)."""
