#!/usr/bin/env python3
"""Benchmark batchproc against its peers: `python bench/run.py --help`, and bench/README.md.

The harness itself lives in bench/harness/; this file only puts it on the path and runs it.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.cli import main  # noqa: E402  (needs the path above)

if __name__ == "__main__":
    sys.exit(main())
