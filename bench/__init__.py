"""Benchmarks: the lineage store against the seed's SQL side table, and the speed targets.

Run `python -m bench` (see README); `--quick` for a tiny smoke run.
"""
