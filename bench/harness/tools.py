"""The external tools: whether they exist, their version lines, and how to start batchproc."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from .config import INSTALL_LABELS, REPO, Batchproc, Config
from .records import Job


def run_quiet(argv: list[str], env: dict[str, str] | None = None, timeout: int = 60) -> subprocess.CompletedProcess | None:
    """Run a short command for information; None if it cannot start."""
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})
    except (OSError, subprocess.TimeoutExpired):
        return None


def first_line(argv: list[str], env: dict[str, str] | None = None) -> str:
    """First non-empty output line of a version command, or 'missing'."""
    proc = run_quiet(argv, env)
    if proc is None:
        return "missing"
    text = (proc.stdout or "") + (proc.stderr or "")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[0] if lines else f"exit {proc.returncode}"


def tail(text: str | bytes | None, limit: int = 160) -> str:
    """Last line of some output, shortened."""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    return (lines[-1] if lines else "")[-limit:]


def have(tool: str) -> bool:
    """True if an executable is on PATH."""
    return shutil.which(tool) is not None


def missing_tools(*tools: str) -> str:
    """A skip note naming the tools that are not on PATH, or ''."""
    gone = [t for t in tools if not have(t)]
    return f"{', '.join(gone)} not found (bench/install-peers.sh installs it)" if gone else ""


def python_imports(module: str) -> bool:
    """True if this Python can import `module` (checked in a child process)."""
    proc = run_quiet([sys.executable, "-c", f"import {module}"])
    return proc is not None and proc.returncode == 0


def bash(script: str) -> list[str]:
    """argv for a bash pipeline that fails if any stage fails."""
    return ["bash", "-c", "set -o pipefail; " + script]


def q(path: Path | str) -> str:
    """Shell-quote a path."""
    return shlex.quote(str(path))


def batchproc_candidates(override: str | None) -> list[Batchproc]:
    """Ways to start batchproc, best first."""
    if override:
        return [Batchproc(tuple(shlex.split(override)), {})]
    found = []
    # The script installed beside this Python comes first: a version manager's shim on PATH
    # (pyenv's adds about 65 ms) would be timed as batchproc's start-up otherwise.
    beside = Path(sys.executable).parent / "batchproc"
    if beside.is_file() and os.access(beside, os.X_OK):
        found.append(Batchproc((str(beside),), {}))
    if have("batchproc"):
        found.append(Batchproc((shutil.which("batchproc"),), {}))
    pythonpath = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    found.append(Batchproc((sys.executable, "-m", "batchproc"), {"PYTHONPATH": pythonpath}))
    return found


def find_batchproc(override: str | None) -> tuple[Batchproc | None, str]:
    """A working batchproc command (--batchproc, beside this Python, PATH, python -m) and a note."""
    errors = []
    for cand in batchproc_candidates(override):
        proc = run_quiet([*cand.argv, "--help"], cand.env)
        if proc is not None and proc.returncode == 0:
            return cand, " ".join(cand.argv)
        detail = "cannot start" if proc is None else f"exit {proc.returncode}: {tail(proc.stderr)}"
        errors.append(f"`{' '.join(cand.argv)} --help` {detail}")
    return None, "batchproc not available yet (" + "; ".join(errors) + ")"


def no_batchproc(cfg: Config) -> str:
    """Skip note for batchproc contenders: '' when batchproc works."""
    return "" if cfg.batchproc else "batchproc not available (see note above the table)"


def no_resize(bp: Batchproc | None) -> str:
    """Skip note for the resize rows of one install: '' when its resize runs."""
    if bp is None:
        return "this install could not be made (see the machine block)"
    return bp.problem


def batchproc_job(cfg: Config, args: list[str], out_dir: Path | None = None, cwd: Path | None = None,
                  bp: Batchproc | None = None, until_first_line: bool = False) -> Job:
    """A Job running batchproc (the given install, else the first) with the given arguments."""
    bp = bp or cfg.batchproc
    return Job([*bp.argv, *args], out_dir=out_dir, env=dict(bp.env), cwd=cwd, until_first_line=until_first_line)


def install_suffix(kind: str) -> str:
    """What a row's name adds for its install: ', plain install'; nothing for the one beside the bench."""
    return f", {INSTALL_LABELS[kind]}" if INSTALL_LABELS[kind] else ""


def installs(cfg: Config) -> list[tuple[str, Batchproc | None]]:
    """(kind, install or None) for every install asked for, in order."""
    return list(zip(cfg.install_kinds, cfg.installs))
