"""Benchmarks run by `lgcaa bench NAME`: each prints one JSON object with absolute numbers and ratios
measured in the same run (ours vs a reference), never timed assertions in tests."""
