"""Shared fixtures: tests load only batchproc's own plugins and make all their data."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

# Like llm's LLM_LOAD_PLUGINS: third-party plugins installed on the machine never leak into tests.
os.environ["BATCHPROC_LOAD_PLUGINS"] = ",".join(
    ep.name for ep in entry_points(group="batchproc") if ep.dist and ep.dist.name == "batchproc"
)


class CliResult:
    def __init__(self, code, out, err):
        self.exit_code, self.stdout, self.stderr = code, out, err

    def __repr__(self):
        return f"CliResult({self.exit_code}, stdout={self.stdout!r}, stderr={self.stderr!r})"


@pytest.fixture
def cli(capsys):
    """Run batchproc in this process: cli(args...) -> exit code, stdout, stderr."""
    from batchproc.cli import run

    def invoke(*args):
        capsys.readouterr()
        code = run([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def batchproc_process():
    """Run batchproc as a real subprocess with real pipes (no terminal)."""

    def invoke(*args, input=None, cwd=None, env=None, timeout=120):
        completed = subprocess.run(
            [sys.executable, "-m", "batchproc", *map(str, args)], input=input,
            capture_output=True, cwd=cwd, timeout=timeout,
            env={**os.environ, **(env or {})},
        )
        return CliResult(completed.returncode, completed.stdout, completed.stderr)

    return invoke
