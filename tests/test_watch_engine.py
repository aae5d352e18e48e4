"""The pieces under --watch: usage, a missing watchdog, the inotify limit, when a file counts as
settled, the walk's verdict on one path, and how a burst is chunked."""

import os
import shutil
import subprocess
import time

import pytest

from batchproc.feed import Feed
from batchproc.outputs import OutputLayout
from batchproc.plan import Planner
from batchproc.state_dir import StateLocations
from batchproc.walk import WalkRules, walk
from batchproc.walker import END_OF_BATCH, Walker
from batchproc.watch.settling import Settler
from batchproc_plugins.compress import Compress
from watching import age


@pytest.mark.parametrize("args, message", [
    (["-", "--watch"], "--watch watches folders and files named as arguments"),
    (["in", "--files-from", "list", "--watch"], "--watch watches folders and files named as arguments"),
    (["in", "--watch", "--dry-run"], "--watch and --dry-run cannot be used together"),
    (["in", "--settle", "1"], "--settle is for --watch"),
    (["in", "--poll", "5"], "--poll is for --watch"),
    (["in", "--mirror-deletes"], "--mirror-deletes is for --watch"),
])
def test_usage_errors(cli, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    (tmp_path / "list").write_text("")
    result = cli("compress", *args)
    assert result.exit_code == 2
    assert result.stderr == f"Error: {message}" + result.stderr.split(message, 1)[1]
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "in_compressed").exists()


def test_without_watchdog_watch_is_one_error_line(tmp_path, batchproc_process):
    hidden = tmp_path / "no-watchdog/watchdog"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('No module named watchdog')\n")
    (tmp_path / "in").mkdir()
    result = batchproc_process("compress", tmp_path / "in", "--watch",
                               env={"PYTHONPATH": f"{hidden.parent}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"})
    assert result.exit_code == 2
    assert result.stderr.decode() == ("Error: --watch needs watchdog: pip install 'batchproc[watch]' "
                                      "(No module named watchdog)\n")
    assert not (tmp_path / "in_compressed").exists()


def _can_limit_inotify() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-Ur", "sh", "-c", "echo 4 > /proc/sys/user/max_inotify_watches"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_limit_inotify(), reason="needs unshare -Ur and a per-namespace inotify limit")
def test_the_inotify_watch_limit_falls_back_to_polling_with_one_warning(watch, tmp_path):
    pytest.importorskip("watchdog")
    for index in range(8):
        (tmp_path / f"in/f{index}").mkdir(parents=True)
    (tmp_path / "in/first.txt").write_text("x" * 100)
    age(tmp_path / "in/first.txt")
    # In a user namespace of its own, this run may hold 4 inotify watches: fewer than its 9 folders.
    run = watch("compress", "in", "--watch", "--settle", "0.3", ready=None,
                prefix=("unshare", "-Ur", "sh", "-c", 'echo 4 > /proc/sys/user/max_inotify_watches && exec "$@"', "-"))
    warning = run.line("Warning:")
    assert "the inotify limit is reached (fs.inotify.max_user_watches" in warning
    assert "watching by polling every 5 s instead" in warning
    assert "polling every 5 s" in run.line("watching in")
    run.line("ok: in/first.txt")  # the first pass is over
    time.sleep(0.5)
    (tmp_path / "in/f7/late.txt").write_text("x" * 100)  # in a folder inotify could not watch
    run.line("ok: in/f7/late.txt", timeout=20)
    assert run.stop() == 130
    assert len([line for line in run.errors if line.startswith("Warning")]) == 1


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_file_settles_once_unchanged_for_the_settle_time(tmp_path):
    clock = Clock()
    settler = Settler(2.0, clock)
    path = tmp_path / "a.jpg"
    path.write_bytes(b"part one")
    settler.touch(str(path), fresh=True)
    assert settler.check() == []  # looked at once after its event
    clock.now += 1.5
    path.write_bytes(b"part one, part two")
    settler.touch(str(path))  # written again: its wait starts again
    clock.now += 1.9
    assert settler.check() == []
    clock.now += 0.2
    settled = settler.check()
    assert [entry[0] for entry in settled] == [str(path)] and settled[0][1].st_size == 18
    assert len(settler) == 0


def test_a_change_heard_of_by_no_event_is_caught_when_its_wait_ends(tmp_path):
    clock = Clock()
    settler = Settler(1.0, clock)
    path = tmp_path / "a.txt"
    path.write_text("one")
    settler.touch(str(path))
    settler.check()
    with open(path, "a") as handle:  # polling: no event before the next look
        handle.write(" two")
    clock.now += 1.1
    assert settler.check() == []  # not what it was after its event: it waits again
    clock.now += 1.1
    assert [entry[0] for entry in settler.check()] == [str(path)]


def test_files_a_walk_finds_wait_from_their_mtime_and_fresh_ones_vanish_quietly(tmp_path):
    clock = Clock()
    settler = Settler(2.0, clock)
    old, new = tmp_path / "old.txt", tmp_path / "new.txt"
    old.write_text("x")
    age(old)
    new.write_text("y")
    settler.adopt(str(old), os.stat(old))
    settler.adopt(str(new), os.stat(new), fresh=True)
    assert [entry[0] for entry in settler.check()] == [str(old)]  # unchanged for a minute already
    assert settler.forget(str(new)) is True  # created while watched and never settled
    assert settler.forget(str(old)) is False


def test_a_burst_is_chunked_as_a_normal_walk_is(tmp_path):
    for index in range(500):
        (tmp_path / f"{index:03}.txt").write_text("x")
    files = next(walk([str(tmp_path)], WalkRules()))
    step = Compress()
    planner = Planner(step, OutputLayout(step.output_suffix, out=str(tmp_path / "out")),
                      StateLocations(str(tmp_path / "state")))
    feed = Feed()
    walker = Walker([files, END_OF_BATCH, files[:1], END_OF_BATCH], planner, feed, jobs=2,
                    max_chunk=step.max_chunk)
    walker.start()
    chunks = []
    deadline = time.monotonic() + 10
    while not feed.exhausted and time.monotonic() < deadline:
        chunk = feed.take_chunk()
        if chunk is not None:
            chunks.append(len(chunk))
    walker.join()
    planner.close()
    assert sum(chunks) == 501
    assert chunks[-1] == 1  # the one file of the second batch goes at once, alone
    assert max(chunks) == step.max_chunk and len(chunks) < 501 // 4  # not one task per event


def test_after_watchdog_reports_lost_events_the_whole_tree_is_looked_at_again(tmp_path):
    import logging

    from batchproc.stopping import StopControl
    from batchproc.watch.hot_folders import HotFolders

    pytest.importorskip("watchdog")
    (tmp_path / "in/sub").mkdir(parents=True)
    for name in ("a.txt", "sub/b.txt"):
        (tmp_path / "in" / name).write_text("x")
        age(tmp_path / "in" / name)
    said = []
    hot = HotFolders(settle=0.1, poll=None, control=StopControl(), say=said.append)
    try:
        share = hot.share([str(tmp_path / "in")], WalkRules(), accepts=lambda name: True, mirror=False)
        logging.getLogger("watchdog.observers.inotify_c").warning(
            "Inotify queue overflowed; filesystem events were lost")  # as watchdog 7 says it
        entry = share._take(timeout=5)
        assert entry is not None
        assert sorted(f.relpath for folder in entry[1] for f in folder) == ["a.txt", "sub/b.txt"]
        assert said == ["Warning: more changes at once than inotify could queue: looking at the whole tree again"]
    finally:
        hot.close()
