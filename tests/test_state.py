"""Incremental state lives in the user's state folder: an output folder holds outputs only."""

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from batchproc.state_dir import state_file
from conftest import write_files
from images import write_tree


def tree(root: Path) -> dict[str, int]:
    """Every path under `root` with its modification time."""
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in sorted(root.rglob("*"))}


def state_home() -> Path:
    return Path(os.environ["XDG_STATE_HOME"]) / "batchproc"


def test_the_output_tree_holds_exactly_the_outputs_and_a_rerun_touches_nothing(cli, tmp_path):
    write_tree(tmp_path / "in", {"a.jpg": (200, 100), "sub/b.png": (120, 90)})
    first = cli("resize", tmp_path / "in", "--out", tmp_path / "web", "--width", 50)
    assert first.exit_code == 0
    before = tree(tmp_path / "web")
    assert sorted(before) == ["a.jpg", "sub", "sub/b.png"]
    again = cli("resize", tmp_path / "in", "--out", tmp_path / "web", "--width", 50)
    assert "2 up to date" in again.stderr
    assert tree(tmp_path / "web") == before
    assert os.stat(tmp_path / "web").st_mtime_ns == os.stat(tmp_path / "web").st_mtime_ns
    assert Path(state_file(str(state_home()), str(tmp_path / "web"))).exists()


def test_state_goes_where_state_says(cli, tmp_path):
    write_tree(tmp_path / "in", {"a.jpg": (200, 100)})
    run = lambda: cli("resize", tmp_path / "in", "--out", tmp_path / "web", "--width", 50,
                      "--state", tmp_path / "mine")
    assert run().exit_code == 0
    assert list((tmp_path / "mine/outputs").glob("web-*.sqlite"))
    assert "1 up to date" in run().stderr


def test_no_writable_state_folder_means_no_incremental_state_said_once(cli, tmp_path):
    write_tree(tmp_path / "in", {"a.jpg": (200, 100)})
    (tmp_path / "blocked").write_text("a file where the state folder would be")
    run = lambda: cli("resize", tmp_path / "in", "--out", tmp_path / "web", "--width", 50,
                      "--state", tmp_path / "blocked")
    result = run()
    assert result.exit_code == 0 and (tmp_path / "web/a.jpg").exists()
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1 and "without incremental state" in warnings[0]
    assert "1 ok" in run().stderr  # nothing remembered: done again


def test_old_state_in_the_output_folder_is_moved_out_once(cli, tmp_path):
    write_tree(tmp_path / "in", {"a.jpg": (200, 100)})
    assert cli("resize", tmp_path / "in", "--out", tmp_path / "web", "--width", 50).exit_code == 0
    # As an earlier batchproc left it: the state file inside the output folder.
    new = Path(state_file(str(state_home()), str(tmp_path / "web")))
    (tmp_path / "web/.batchproc").mkdir()
    os.replace(new, tmp_path / "web/.batchproc/state.sqlite")
    (tmp_path / "web/.batchproc/lock").write_text("123\n")
    with sqlite3.connect(tmp_path / "web/.batchproc/state.sqlite") as old:
        old.execute("DROP TABLE about")
        old.execute("PRAGMA user_version = 2")
    dry = cli("resize", tmp_path / "in", "--out", tmp_path / "web", "--width", 50, "--dry-run")
    assert (tmp_path / "web/.batchproc").exists()  # a dry run changes nothing
    assert "skip" in dry.stdout
    again = cli("resize", tmp_path / "in", "--out", tmp_path / "web", "--width", 50)
    assert "1 up to date" in again.stderr  # the old records were kept
    assert not (tmp_path / "web/.batchproc").exists() and new.exists()


def test_a_moved_output_folder_simply_redoes_the_work(cli, tmp_path):
    write_tree(tmp_path / "in", {"a.jpg": (200, 100)})
    assert cli("resize", tmp_path / "in", "--out", tmp_path / "web", "--width", 50).exit_code == 0
    os.rename(tmp_path / "web", tmp_path / "moved")
    assert "1 ok" in cli("resize", tmp_path / "in", "--out", tmp_path / "moved", "--width", 50).stderr


def test_the_lock_is_on_the_output_folder_for_every_run(tmp_path, batchproc_process, hazard):
    write_files(tmp_path / "in", {"slow.txt": "sleep 30"})
    first = subprocess.Popen([sys.executable, "-m", "batchproc", "hazard", str(tmp_path / "in"),
                              "--jobs", "1", "--state", str(tmp_path / "state-a")],
                             stderr=subprocess.PIPE, env={**os.environ})
    try:
        deadline = time.monotonic() + 20
        while not (tmp_path / "in_out").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        # Another user's run keeps its state elsewhere, and still meets the lock.
        second = batchproc_process("hazard", tmp_path / "in", "--jobs", 1, "--state", tmp_path / "state-b")
        assert second.exit_code == 75
        assert second.stderr.decode() == (
            f"Error: another batchproc run (pid {first.pid}) is writing to {tmp_path / 'in_out'}\n")
    finally:
        first.kill()
        first.wait()
    assert os.listdir(tmp_path / "in_out") == []


@pytest.mark.parametrize("errno_name", ["EBADF", "ENOLCK"])
def test_where_a_folder_cannot_be_locked_a_lock_file_in_the_state_folder_is(tmp_path, monkeypatch, errno_name):
    import errno
    import fcntl

    from batchproc.errors import RunLockedError
    from batchproc.run_lock import RunLock

    real_flock = fcntl.flock

    def nfs_like_flock(fd, operation):  # as NFS answers flock on a file not open for writing
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            raise OSError(getattr(errno, errno_name), os.strerror(getattr(errno, errno_name)))
        return real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", nfs_like_flock)
    first = RunLock(str(tmp_path / "out"), fallback=str(tmp_path / "state/locks/out.lock"))
    first.acquire()
    try:
        second = RunLock(str(tmp_path / "out"), fallback=str(tmp_path / "state/locks/out.lock"))
        with pytest.raises(RunLockedError, match=f"pid {os.getpid()}"):
            second.acquire()
    finally:
        first.release()
    assert os.listdir(tmp_path / "out") == []


def test_state_lists_and_forgets(cli, tmp_path):
    write_tree(tmp_path / "in", {"a.jpg": (200, 100), "b.jpg": (200, 100)})
    cli("resize", tmp_path / "in", "--out", tmp_path / "web", "--width", 50)
    listing = cli("state")
    assert listing.exit_code == 0
    line = next(line for line in listing.stdout.splitlines() if str(tmp_path / "web") in line)
    assert "resize" in line and "2 ok" in line
    forgot = cli("state", "--forget", tmp_path / "web")
    assert forgot.exit_code == 0 and str(tmp_path / "web") in forgot.stderr
    assert str(tmp_path / "web") not in cli("state").stdout
    assert "2 ok" in cli("resize", tmp_path / "in", "--out", tmp_path / "web", "--width", 50).stderr
    unknown = cli("state", "--forget", tmp_path / "nowhere")
    assert unknown.exit_code == 2 and unknown.stderr.startswith("Error: no state is kept for")


def test_records_below_a_folder_and_forgetting_one(tmp_path):
    from batchproc.state import Record, StateStore

    store = StateStore(str(tmp_path / "state.sqlite"), str(tmp_path / "out"))
    record = Record("settings", 1, 2, "ok", "out/x", 3, 4, None)
    for relpath in ("in/a.jpg", "in/sub/b.jpg", "in/sub/deeper/c.jpg", "in/subway/d.jpg", "other/e.jpg"):
        store.record(str(tmp_path / relpath), "resize", record)
    below = sorted(os.path.relpath(path, tmp_path) for path, _ in store.lookup_tree(str(tmp_path / "in/sub"), "resize"))
    assert below == ["in/sub/b.jpg", "in/sub/deeper/c.jpg"]  # not in/subway
    store.forget(str(tmp_path / "in/sub/b.jpg"), "resize")
    assert [os.path.basename(p) for p, _ in store.lookup_tree(str(tmp_path / "in/sub"), "resize")] == ["c.jpg"]
    store.close()
