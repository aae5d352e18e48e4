"""The benchmark harness behind bench/run.py: inputs, contenders, timing, quality, report."""
