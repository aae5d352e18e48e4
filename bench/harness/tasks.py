"""The round-robin tasks (image with the machine's ceiling, small files, start-up) and the registry."""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Callable

from .config import JOB_TIMEOUT, QUALITY, SIZE, Config
from .contenders import (BATCHPROC, BATCHPROC_J1, BATCHPROC_PILLOW, ceiling_contenders, image_contenders,
                         small_contenders, startup_contenders)
from .incremental import incremental_task
from .inputs import build_image_inputs, build_small_inputs, fresh_dir
from .memory import memory_task
from .quality import measure_quality
from .records import Result
from .rounds import check_outputs, run_round_robin
from .tools import bash, batchproc_job, q, tail


def engine_used(cfg: Config, src: Path, engine: str | None) -> str:
    """Untimed: which engine batchproc's --json reports for the first copy, with the task's settings."""
    with tempfile.TemporaryDirectory() as out:
        args = ["resize", str(src), "--out", out, "--size", "{}x{}".format(*SIZE), "--quality", str(QUALITY),
                "--include", "img000.jpg", "--json"]
        job = batchproc_job(cfg, args + (["--engine", engine] if engine else []))
        proc = subprocess.run(job.argv, env={**os.environ, **job.env}, capture_output=True, text=True, timeout=JOB_TIMEOUT)
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    done = [r for r in records if r.get("status") == "ok"]  # the other copies are reported as filtered
    # batchproc names the engine in its record only when libvips did the work.
    return done[0].get("engine", "pillow") if done else f"unknown ({tail(proc.stderr)})"


def note_engines(cfg: Config, results: list[Result], src: Path) -> None:
    """Say which engine each batchproc row really ran, as batchproc reports it."""
    engines = {BATCHPROC: None, BATCHPROC_J1: None, BATCHPROC_PILLOW: "pillow"}
    for res in results:
        if res.contender.name in engines and res.times:
            res.notes.append(f"engine: {engine_used(cfg, src, engines[res.contender.name])}")


def image_task(cfg: Config) -> list[Result]:
    """The sharp benchmark JPEG over N copies, 2 workers each, with PSNR; the CPU spins alternate with it."""
    src = build_image_inputs(cfg)
    # The spins run in the same rounds as the image contenders, so both see the same neighbours.
    contenders = image_contenders(cfg, src) + ceiling_contenders()
    results = run_round_robin(cfg, contenders, fresh_dir(cfg.bench_dir / "runs" / "image"), files=cfg.copies)
    for res in results:
        if res.contender.task == "ceiling":
            res.files = 0  # the spins process no files: no files/s for them
    images = [r for r in results if r.contender.task == "image"]
    check_outputs(images, cfg.copies)
    measure_quality(images, cfg.image)
    note_engines(cfg, images, src)
    return results


def sorted_lines(argv: list[str], env: dict[str, str] | None = None) -> list[str]:
    """The stdout lines of a command, sorted; raises if it fails."""
    proc = subprocess.run(argv, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=JOB_TIMEOUT, check=True)
    return sorted(proc.stdout.splitlines())


def verify_manifest(cfg: Config, res: Result, src: Path) -> None:
    """Untimed: batchproc's manifest, sorted, must equal sha256sum's line for line."""
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


def small_task(cfg: Config) -> list[Result]:
    """sha256 over many 1-4 KB files, manifest to /dev/null."""
    src = build_small_inputs(cfg)
    results = run_round_robin(cfg, small_contenders(cfg, src), fresh_dir(cfg.bench_dir / "runs" / "small"),
                              files=cfg.small_files)
    for res in results:
        if res.contender.role == "batchproc":
            verify_manifest(cfg, res, src)
    return results


def startup_task(cfg: Config) -> list[Result]:
    """Start-up cost: --help and a resize of an empty folder."""
    empty = fresh_dir(cfg.bench_dir / "inputs" / "empty-dir")
    return run_round_robin(cfg, startup_contenders(cfg, empty), fresh_dir(cfg.bench_dir / "runs" / "startup"),
                           rounds=max(cfg.rounds * 4, 10))


TASKS: dict[str, Callable[[Config], list[Result]]] = {
    "image": image_task,
    "small": small_task,
    "startup": startup_task,
    "memory": memory_task,
    "incremental": incremental_task,
}
