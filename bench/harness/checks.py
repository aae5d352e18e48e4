"""Untimed checks once the rounds are done: which engine batchproc really ran, and that its
checksum manifest is sha256sum's."""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

from .config import JOB_TIMEOUT, QUALITY, SIZE, Batchproc, Config
from .records import Result
from .tools import bash, batchproc_job, q, tail


def engine_used(cfg: Config, bp: Batchproc, src: Path, engine: str | None) -> str:
    """Which engine batchproc's --json reports for the first copy, with the task's settings."""
    with tempfile.TemporaryDirectory() as out:
        args = ["resize", str(src), "--out", out, "--size", "{}x{}".format(*SIZE), "--quality", str(QUALITY),
                "--include", "img000.jpg", "--json"]
        job = batchproc_job(cfg, args + (["--engine", engine] if engine else []), bp=bp)
        proc = subprocess.run(job.argv, env={**os.environ, **job.env}, capture_output=True, text=True, timeout=JOB_TIMEOUT)
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    done = [r for r in records if r.get("status") == "ok"]  # the other copies are reported as filtered
    # batchproc names the engine in its record only when libvips did the work.
    return done[0].get("engine", "pillow") if done else f"unknown ({tail(proc.stderr)})"


def note_engine(cfg: Config, bp: Batchproc, src: Path, engine: str | None):
    """An `after` check: notes the engine a resize row really ran, as batchproc reports it."""
    def check(res: Result) -> None:
        if res.times:
            res.extra["engine"] = engine_used(cfg, bp, src, engine)
            res.notes.append(f"engine: {res.extra['engine']}")

    return check


def sorted_lines(argv: list[str], env: dict[str, str] | None = None) -> list[str]:
    """The stdout lines of a command, sorted; raises if it fails."""
    proc = subprocess.run(argv, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=JOB_TIMEOUT, check=True)
    return sorted(proc.stdout.splitlines())


def verify_manifest(cfg: Config, src: Path):
    """An `after` check: batchproc's manifest, sorted, must equal sha256sum's line for line."""
    def check(res: Result) -> None:
        if not res.times:
            return
        job = batchproc_job(cfg, ["checksum", str(src)])
        try:
            ours = sorted_lines(job.argv, job.env)
            theirs = sorted_lines(bash(f"find {q(src)} -type f -print0 | xargs -0 sha256sum"))
        except subprocess.CalledProcessError as err:
            res.notes.append(f"manifest not checked: exit {err.returncode}: {tail(err.stderr)}")
            return
        same = ours == theirs
        res.extra["manifest_equal"] = same
        res.notes.append(f"manifest = sha256sum's ({len(ours)} lines)" if same
                         else f"manifest differs from sha256sum's: {len(ours)} vs {len(theirs)} lines")

    return check
