"""Speed at scale: synthetic collections, vector-search and end-to-end timings, encoder timings (issue 9).

The `simulate` and `benchmark` management commands are thin shells around this package; docs/benchmarks.md holds
the figures it produced and the commands that produced them.
"""
