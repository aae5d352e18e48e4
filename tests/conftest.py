"""Shared fixtures: tests load only batchproc's own plugins and make all their data."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from installed import write_plugin_package

sys.path.insert(0, str(Path(__file__).parent))

# The user's own cache and state never meet the tests' (and the tests never write to them).
_HOME = tempfile.mkdtemp(prefix="batchproc-tests-")
os.environ["XDG_CACHE_HOME"] = os.path.join(_HOME, "cache")
os.environ["XDG_STATE_HOME"] = os.path.join(_HOME, "state")

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
        environment = dict(os.environ)
        try:
            code = run([str(a) for a in args])
        finally:  # --plugin-dir is exported for workers: keep it from leaking into other tests
            os.environ.clear()
            os.environ.update(environment)
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

    def python(*args, timeout=120):
        """The same interpreter with other arguments (text output)."""
        return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                              timeout=timeout, env=dict(os.environ))

    invoke.python = python
    return invoke


@pytest.fixture
def install_plugin(tmp_path, monkeypatch):
    """install_plugin(module_name, source): install a plugin module as a package would (a
    dist-info declaring the entry point), visible to this process and to spawned workers."""
    import importlib

    site = tmp_path / "site-packages"
    installed = []

    def install(module_name: str, source: str) -> Path:
        module = write_plugin_package(site, module_name, source)
        if not installed:
            monkeypatch.syspath_prepend(str(site))
            monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
        monkeypatch.setenv("BATCHPROC_LOAD_PLUGINS", os.environ["BATCHPROC_LOAD_PLUGINS"] + "," + module_name)
        sys.modules.pop(module_name, None)
        importlib.invalidate_caches()
        installed.append(module_name)
        return module

    yield install
    for module_name in installed:
        sys.modules.pop(module_name, None)


HAZARD_PLUGIN = '''
"""A step that misbehaves on command: each input file's text says how."""
import ctypes, os, signal, time
from batchproc import Step, StepError, hookimpl


class Unpicklable(Exception):
    def __init__(self, a, b):
        super().__init__(a)


class Hazard(Step):
    """Copy text files, misbehaving as their content says.

    Example: batchproc hazard drills/
    """
    name = "hazard"
    summary = "Misbehave on command (fault drills)."
    extensions = frozenset({".txt"})
    output_suffix = "_out"
    max_chunk = 4

    def __init__(self, pids: str = ""):
        super().__init__(pids=pids)
        self.pids = pids

    def process(self, source, target):
        if self.pids:  # tell the test which processes did work
            open(os.path.join(self.pids, str(os.getpid())), "w").close()
        command = source.read_text().strip()
        kind, _, arg = command.partition(" ")
        if kind == "sleep":
            time.sleep(float(arg))
        elif kind == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif kind == "kill-once":
            marker = source.with_name("." + source.name + ".attempted")  # hidden: never walked
            if not os.path.exists(marker):
                open(marker, "w").close()
                os.kill(os.getpid(), signal.SIGKILL)
        elif kind == "segfault":
            ctypes.string_at(0)
        elif kind == "exit":
            os._exit(3)
        elif kind == "slow-once":
            marker = source.with_name("." + source.name + ".attempted")
            if not os.path.exists(marker):
                open(marker, "w").close()
                time.sleep(float(arg))
        elif kind == "hang":
            time.sleep(3600)
        elif kind == "systemexit":
            raise SystemExit(5)
        elif kind == "keyboardinterrupt":
            raise KeyboardInterrupt
        elif kind == "unpicklable-error":
            raise Unpicklable("cannot", "pickle me")
        elif kind == "unpicklable-return":
            return {"callback": lambda: None}
        elif kind == "enospc":
            target.write_text("partial")
            raise OSError(28, "No space left on device", str(target))
        elif kind == "fail":
            raise StepError("asked to fail")
        elif kind == "flaky":
            marker = source.with_name("." + source.name + ".attempted")
            if not os.path.exists(marker):
                open(marker, "w").close()
                raise OSError(5, "Input/output error")
        elif kind == "eat":  # megabytes, really touched, held a while
            hog = b"\x01" * (int(arg) << 20)
            time.sleep(3)
            del hog
        elif kind == "grow":
            with open(source, "a") as handle:
                handle.write("more")
        target.write_text(command)


@hookimpl
def register_steps(register):
    register(Hazard)
'''


@pytest.fixture
def hazard(install_plugin):
    """The `hazard` step: a text file saying "kill", "hang", "segfault"... makes it misbehave."""
    install_plugin("hazard_plugin", HAZARD_PLUGIN)


def file_records(path) -> list[dict]:
    """The per-file records of a --log file: its runs' header and end records left out."""
    import json

    return [record for record in map(json.loads, Path(path).read_bytes().splitlines()) if "status" in record]


def write_files(folder: Path, contents: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in contents.items():
        (folder / name).write_text(text)
    return folder


@pytest.fixture
def watch(tmp_path):
    """watch(ARGS..., cwd=tmp_path): `batchproc ARGS` (with --watch among them) as a real process,
    started and ready (see watching.Watching); killed after the test if it is still running."""
    from watching import Watching

    started = []

    def start(*args, cwd=None, **options):
        watching = Watching(*args, cwd=cwd or tmp_path, **options)
        started.append(watching)
        return watching

    yield start
    for watching in started:
        watching.kill()
