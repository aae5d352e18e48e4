"""How workers start: from a forkserver by default, never forked from the threaded parent."""

import multiprocessing
import os
import subprocess
import sys
import time

import pytest

from batchproc.worker_server import default_start_method
from conftest import write_files

THREADED_FORK = "This process"  # Python 3.12+: "This process (pid=...) is multi-threaded, use of fork()..."


def test_the_default_is_forkserver_where_it_exists_whatever_python_prefers():
    expected = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    assert default_start_method() == expected


def big_tree(root, folders=40, files=100):
    """Enough folders that the walk is still going when the first workers start."""
    for folder in range(folders):
        write_files(root / f"d{folder:02}", {f"f{i:03}.txt": f"{folder} {i}" for i in range(files)})
    return root


def run_with_fork_warnings_shown(tree, *args):
    """checksum over `tree` with Python's threaded-fork warning always shown. The paths come
    through a named pipe (--files-from), held open until the first results are logged: the
    thread that reads it (the walk) is certainly running when the workers start, however fast
    the walk would be. (Not stdin: a child forked while that thread reads stdin can hang closing
    it, the very hazard this test is about.)"""
    out, log, fifo = tree.parent / "out.txt", tree.parent / "run.jsonl", tree.parent / "paths"
    log.unlink(missing_ok=True)
    if not fifo.exists():
        os.mkfifo(fifo)
    with open(out, "wb") as stdout, open(tree.parent / "err.txt", "wb+") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-W", f"always:{THREADED_FORK}:DeprecationWarning", "-m", "batchproc",
             "checksum", "--files-from", str(fifo), "--jobs", "2", "--log", str(log), *args],
            stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
        with open(_writer_of(fifo, process), "w") as paths:
            paths.writelines(f"{path}\n" for path in sorted(map(str, tree.rglob("*.txt"))))
            paths.flush()
            deadline = time.monotonic() + 60
            while process.poll() is None and time.monotonic() < deadline and (
                    not log.exists() or log.read_text().count("\n") < 3):  # the header, then results
                time.sleep(0.01)
        process.wait(timeout=120)
        stderr.seek(0)
        errors = stderr.read().decode()
    return subprocess.CompletedProcess(process.args, process.returncode, out.read_text(), errors)


def _writer_of(fifo, process) -> int:
    """The named pipe opened for writing once batchproc opens it for reading (an error if
    batchproc ends first, rather than a test that waits for ever)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: no reader yet
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"batchproc never read {fifo} (exit {process.poll()})") from None
            time.sleep(0.01)
            continue
        os.set_blocking(fd, True)
        return fd


@pytest.mark.skipif(sys.version_info < (3, 12),
                    reason="Python warns about fork() in a multi-threaded process from 3.12 on")
def test_workers_are_never_forked_from_the_threaded_parent(tmp_path):
    tree = big_tree(tmp_path / "tree")
    default = run_with_fork_warnings_shown(tree)
    assert default.returncode == 0, default.stderr
    assert len(default.stdout.splitlines()) == 4000
    assert THREADED_FORK not in default.stderr
    # The same run forking its workers is warned about: the check above can fail.
    forked = run_with_fork_warnings_shown(tree, "--start-method", "fork")
    assert THREADED_FORK in forked.stderr


@pytest.mark.filterwarnings("ignore:This process:DeprecationWarning")  # forks on purpose
def test_an_explicit_fork_says_once_why_it_is_risky(cli, tmp_path):
    write_files(tmp_path / "in", {"a.txt": "a", "b.txt": "b"})
    result = cli("checksum", tmp_path / "in", "--jobs", 2, "--start-method", "fork")
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1 and "fork" in warnings[0] and "hang" in warnings[0]
    assert "Warning" not in cli("checksum", tmp_path / "in", "--jobs", 2).stderr


@pytest.mark.filterwarnings("ignore:This process:DeprecationWarning")  # forks on purpose
@pytest.mark.parametrize("method", ["forkserver", "spawn", "fork"])
def test_a_plugin_from_a_folder_works_under_every_start_method(cli, tmp_path, method):
    plugins = write_files(tmp_path / "plugins", {"stamp.py": STAMP})
    write_files(tmp_path / "notes", {"a.txt": "hello", "b.txt": "world"})
    result = cli("--plugin-dir", plugins, "stamp", tmp_path / "notes", "--jobs", 2,
                 "--start-method", method)
    assert result.exit_code == 0, result
    assert (tmp_path / "notes_stamped/a.txt").read_text() == "[hello]"


STAMP = '''
from batchproc import Step, hookimpl


class Stamp(Step):
    """Bracket text files.

    Example: batchproc --plugin-dir plugins stamp notes/
    """
    name = "stamp"
    summary = "Bracket text files."
    extensions = frozenset({".txt"})
    output_suffix = "_stamped"

    def process(self, source, target):
        target.write_text(f"[{source.read_text()}]")


@hookimpl
def register_steps(register):
    register(Stamp)
'''
