"""batchproc as a user installs it: a wheel built once a run from the source tree, installed into
fresh virtual environments the way the README says (`pip install .`, `pip install '.[vips]'`).

pip installs a wheel non-editable and compiles its bytecode, so these contenders start as a
user's copy does; the `beside` install is whatever batchproc sits beside the bench's Python.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from .config import Batchproc, Config
from .tools import find_batchproc, run_quiet, tail

# What the README's commands install, given the wheel.
REQUIREMENTS = {"plain": "{wheel}", "vips": "batchproc[vips] @ {url}"}
# Never copied into the build: version control, environments, build leftovers, caches.
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "venv-*", "build", "dist", "*.egg-info", "__pycache__",
                                    ".pytest_cache", "sample_data_*", "work")
PIP_TIMEOUT = 900


def pip(python: Path | str, *args: str) -> subprocess.CompletedProcess:
    """Run pip quietly; raises with pip's last line when it fails."""
    proc = subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", "--quiet", *args],
                          capture_output=True, text=True, timeout=PIP_TIMEOUT)
    if proc.returncode:
        raise RuntimeError(f"pip {args[0]} failed: {tail(proc.stderr)}")
    return proc


def build_wheel(source: Path, work: Path) -> Path:
    """A wheel of the source tree as it is now, uncommitted changes included, built from a copy
    (pip builds in the tree it is given, and the source is not ours to write to)."""
    copy = work / "source"
    shutil.copytree(source, copy, ignore=NOT_SOURCE)
    pip(sys.executable, "wheel", "--no-deps", "--wheel-dir", str(work / "wheel"), str(copy))
    return next((work / "wheel").glob("batchproc-*.whl"))


def health(bp: Batchproc) -> str:
    """Why resize cannot run in this install, or ''. `--help` also fills batchproc's registry
    cache, as a user's first command does, so no timed start pays for it."""
    listing = run_quiet([*bp.argv, "--help"], bp.env)
    if listing is None or listing.returncode:
        return f"batchproc --help fails: {tail(listing.stderr) if listing else 'cannot start'}"
    resize = run_quiet([*bp.argv, "resize", "--help"], bp.env)
    if resize is None or resize.returncode:
        warnings = [ln for ln in (listing.stderr or "").splitlines() if "resize" in ln]
        return f"no resize in this install: {(warnings or [tail(resize.stderr if resize else '')])[0]}"
    return ""


def install(kind: str, wheel: Path, venv: Path) -> Batchproc:
    """A fresh virtual environment holding what the README's command for `kind` installs."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    pip(python, "install", REQUIREMENTS[kind].format(wheel=wheel, url=wheel.as_uri()))
    bp = Batchproc((str(venv / "bin" / "batchproc"),), {}, str(python))
    return replace(bp, problem=health(bp))


def build_installs(cfg: Config) -> Config:
    """cfg with its installs made (or a note saying why not); the first is cfg.batchproc."""
    made, notes = [], []
    work = cfg.bench_dir / "installs"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    wheel = None
    for kind in cfg.install_kinds:
        started = time.perf_counter()
        try:
            if kind == "beside":
                found, note = find_batchproc(cfg.beside_command)
                bp = found and replace(found, problem=health(found))
            else:
                wheel = wheel or build_wheel(cfg.source, work)
                bp, note = install(kind, wheel, work / kind), f"{work / kind} ({wheel.name})"
        except (RuntimeError, OSError, subprocess.SubprocessError, StopIteration) as err:
            bp, note = None, f"could not be installed: {err or type(err).__name__}"
        made.append(bp)
        notes.append(note + (f"; {bp.problem}" if bp and bp.problem else ""))
        print(f"  {kind}: {note} ({time.perf_counter() - started:.1f} s)", flush=True)
    return replace(cfg, installs=tuple(made), install_notes=tuple(notes), batchproc=made[0] if made else None,
                   batchproc_note=notes[0] if notes else "no install asked for")
