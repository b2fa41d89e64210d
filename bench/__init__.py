"""Benchmarks, run by hand or as a CI smoke test; results in bench/RESULTS.md."""
