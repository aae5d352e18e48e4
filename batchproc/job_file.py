"""Named jobs in a TOML file, for cron: `batchproc run nightly.toml`.

    [folders]                      # names for folders, used in inputs and out
    photos = "/srv/photos"
    web = "/srv/web"

    [defaults]                     # run options for every job
    jobs = 2
    log = "/var/log/batchproc.jsonl"

    [jobs.thumbnails]              # one job: inputs, a step and its options, run options
    inputs = ["photos"]
    out = "web/thumbs"
    step = "resize"
    options = { max = 320, quality = 80 }

Keys are the command-line option names without their dashes (`max-pixels` or `max_pixels`).
Relative paths are relative to the file's folder, so a crontab entry works from anywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from batchproc.errors import UsageError

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

PATH_KEYS = ("out", "log", "files_from", "report")


@dataclass
class Job:
    """One job: a step with its option values, and the run options (by parameter name)."""

    name: str
    step: str
    options: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)
    #: For a chain of steps: each step's name and options, in order.
    chain: list[dict[str, Any]] = field(default_factory=list)


def load_jobs(path: str) -> list[Job]:
    """Read and check a job file; any mistake is a UsageError naming the job and the key."""
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{path} is not valid TOML: {error}") from None
    base = os.path.dirname(os.path.abspath(path))
    folders = {name: _resolve(base, value) for name, value in document.get("folders", {}).items()}
    defaults = document.get("defaults", {})
    jobs = document.get("jobs", {})
    if not jobs:
        raise UsageError(f"{path} has no [jobs.NAME] tables")
    unknown = set(document) - {"folders", "defaults", "jobs"}
    if unknown:
        raise UsageError(f"{path}: unknown table(s) {', '.join(sorted(unknown))}")
    return [_job(name, {**defaults, **table}, folders, base) for name, table in jobs.items()]


def _job(name: str, table: dict, folders: dict[str, str], base: str) -> Job:
    table = {key.replace("-", "_"): value for key, value in table.items()}
    inputs = table.pop("inputs", None)
    if not inputs or not isinstance(inputs, list):
        raise UsageError(f"job {name}: inputs must be a list of folders or files")
    steps = table.pop("steps", None)
    step = table.pop("step", None)
    options = table.pop("options", {})
    if steps is not None and step is not None:
        raise UsageError(f"job {name}: give step or steps, not both")
    if steps is None and step is None:
        raise UsageError(f"job {name}: give a step (or a list of steps)")
    run = {key: value for key, value in table.items()}
    run["paths"] = [_locate(item, folders, base) for item in inputs]
    for key in PATH_KEYS:
        if isinstance(run.get(key), str):
            run[key] = _locate(run[key], folders, base)
    if steps is not None:
        chain = [dict(spec) for spec in steps]
        return Job(name, "chain", run=run, chain=chain) if len(chain) > 1 else Job(
            name, chain[0].pop("step", ""), options=chain[0], run=run)
    return Job(name, step, options=dict(options), run=run)


def _resolve(base: str, path: str) -> str:
    return os.path.normpath(os.path.join(base, os.path.expanduser(path)))


def _locate(item: str, folders: dict[str, str], base: str) -> str:
    """`photos` or `photos/2024` with a named folder; anything else is a path."""
    head, _, rest = item.partition("/")
    if head in folders:
        return os.path.join(folders[head], rest) if rest else folders[head]
    return _resolve(base, item)
