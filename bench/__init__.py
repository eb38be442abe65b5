"""Benchmarks B1, B2, B3, B5 and B6 of /work/shared/BENCHMARKS.md; run them with ``make bench``."""
