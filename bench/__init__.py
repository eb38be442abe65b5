"""The benchmarks of docs/BENCHMARKS.md (B1 to B7); run them with ``make bench``."""
