"""Robustness tests: load, hostile input, faults and secrets."""
