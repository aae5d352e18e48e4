"""What a benchmark run is asked to do: constants of the tasks and the parsed command line."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
DEFAULT_IMAGE = REPO.parent / "shared" / "bench" / "sharp-bench-2725x2225.jpg"
DEFAULT_PEERS = Path(os.environ.get("BATCHPROC_PEERS_DIR", REPO.parent / "peers"))
DEFAULT_BENCH_DIR = Path(os.environ.get("BENCH_DIR", "/tmp/batchproc-bench"))
SIZE = (720, 588)
QUALITY = 80
JOBS = 2
JOB_TIMEOUT = 900
ALL_TASKS = ("image", "small", "startup", "startmethod", "memory", "incremental")
DEFAULT_TASKS = ("image", "small", "startup", "startmethod")
# How batchproc is installed for the contenders: the README's `pip install .` and
# `pip install '.[vips]'` into fresh virtual environments, or the batchproc beside this Python.
INSTALLS = ("plain", "vips", "beside")
DEFAULT_INSTALLS = ("vips", "plain")  # the README's first command installs '.[vips]'
INSTALL_LABELS = {"plain": "plain install", "vips": "[vips] install", "beside": ""}
START_METHODS = ("fork", "forkserver", "spawn")
IMAGE_SUFFIXES = (".jpg", ".jpeg")
# Photo-like inputs of the incremental task: the picture size, and how many distinct pictures
# the copies cycle through (distinct enough that no two neighbours compress alike).
PHOTO_SIZE = (800, 600)
PHOTO_DISTINCT = 40
# Re-runs of the incremental task after its single first run.
INCREMENTAL_RERUNS = 3
# Runs of each mode of the memory task (each walks all the empty files).
MEMORY_RUNS = 3


@dataclass(frozen=True)
class Batchproc:
    """How to start batchproc on this machine."""

    argv: tuple[str, ...]
    env: dict[str, str]
    python: str = sys.executable  # the interpreter it runs on, for `python -c "import typer"` beside it
    problem: str = ""  # why its resize rows cannot run ('' when they can)


@dataclass(frozen=True)
class Config:
    """Everything the command line decides."""

    rounds: int
    slow_rounds: int
    skip_slow: bool
    tasks: tuple[str, ...]
    image: Path
    bench_dir: Path
    peers: Path
    copies: int
    small_files: int
    memory_files: int
    incremental_files: int
    batchproc: Batchproc | None  # the first of the installs: what the small, memory and incremental tasks run
    batchproc_note: str
    json_path: Path | None
    markdown_path: Path | None
    command: str
    install_kinds: tuple[str, ...] = DEFAULT_INSTALLS
    beside_command: str | None = None  # --batchproc: how to start the `beside` install
    source: Path = REPO  # the tree the installs are built from
    # One per install kind, in the order asked for; None where it could not be made.
    installs: tuple[Batchproc | None, ...] = ()
    install_notes: tuple[str, ...] = ()
