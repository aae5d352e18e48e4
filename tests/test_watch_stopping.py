"""--watch as a service: stopped by Ctrl-C or SIGTERM like a normal run, its log reopened on
SIGHUP, its lock held throughout, and ended (exit 4) only by what no file can get past."""

import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from conftest import file_records, write_files
from test_faults import alive
from watching import age

pytest.importorskip("watchdog")

SETTLE = "0.3"


def log_records(path):
    return file_records(path)


def leftovers(root: Path) -> list[str]:
    return [str(path) for path in root.rglob(".batchproc-*")]


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_lets_files_in_flight_finish_and_a_rerun_does_nothing(watch, hazard, tmp_path, cli,
                                                                       signum, code):
    (tmp_path / "pids").mkdir()
    write_files(tmp_path / "in", {"old.txt": "fine"})
    age(tmp_path / "in/old.txt")
    run = watch("hazard", "in", "--pids", tmp_path / "pids", "--watch", "--settle", SETTLE, "--jobs", "2",
                "--log", "log.jsonl")
    run.line("ok: in/old.txt")
    write_files(tmp_path / "in", {"slow1.txt": "sleep 1.5", "slow2.txt": "sleep 1.5"})
    deadline = time.monotonic() + 20
    while len(os.listdir(tmp_path / "pids")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # until the second worker has begun its file
    time.sleep(0.3)  # both taken: one on each worker
    assert run.stop(signum) == code
    assert run.errors[-1].endswith("terminated" if code == 143 else "interrupted")
    outcome = {Path(r["input"]).name: r["status"] for r in log_records(tmp_path / "log.jsonl")}
    assert outcome == {"old.txt": "ok", "slow1.txt": "ok", "slow2.txt": "ok"}  # finished, not cut off
    assert not any(alive(int(pid)) for pid in os.listdir(tmp_path / "pids"))
    assert leftovers(tmp_path) == []
    again = cli("hazard", tmp_path / "in", "--pids", tmp_path / "pids", "--log", tmp_path / "again.jsonl")
    assert again.exit_code == 0, again
    assert {r["error"] for r in log_records(tmp_path / "again.jsonl")} == {"up to date"}


def test_a_second_signal_stops_at_once(watch, hazard, tmp_path):
    (tmp_path / "pids").mkdir()
    (tmp_path / "in").mkdir()
    run = watch("hazard", "in", "--pids", tmp_path / "pids", "--watch", "--settle", SETTLE, "--jobs", "1")
    write_files(tmp_path / "in", {"hang.txt": "hang"})
    time.sleep(float(SETTLE) + 0.6)
    started = time.monotonic()
    assert run.stop(signal.SIGTERM, signal.SIGTERM, timeout=20) == 143
    assert time.monotonic() - started < 10
    assert not any(alive(int(pid)) for pid in os.listdir(tmp_path / "pids"))
    assert leftovers(tmp_path) == []


def test_sighup_reopens_the_log_for_logrotate(watch, tmp_path):
    (tmp_path / "in").mkdir()
    run = watch("compress", "in", "--watch", "--settle", SETTLE, "--log", "batchproc.jsonl")
    (tmp_path / "in/a.txt").write_text("a" * 100)
    run.line("ok: in/a.txt")
    os.rename(tmp_path / "batchproc.jsonl", tmp_path / "batchproc.jsonl.1")  # logrotate
    run.process.send_signal(signal.SIGHUP)
    (tmp_path / "in/b.txt").write_text("b" * 100)
    run.line("ok: in/b.txt")
    assert run.process.poll() is None  # SIGHUP does not end a watch
    assert run.stop() == 130
    assert [r["input"] for r in log_records(tmp_path / "batchproc.jsonl.1")] == ["in/a.txt"]
    assert [r["input"] for r in log_records(tmp_path / "batchproc.jsonl")] == ["in/b.txt"]


def test_the_lock_is_held_while_watching(watch, cli, tmp_path):
    (tmp_path / "in").mkdir()
    run = watch("compress", "in", "--watch", "--out", "out")
    cron = cli("compress", tmp_path / "in", "--out", tmp_path / "out")
    assert cron.exit_code == 75
    assert f"another batchproc run (pid {run.process.pid}) is writing to" in cron.stderr
    assert run.stop() == 130


@pytest.mark.parametrize("lost, message", [("out", "the output folder out is gone"),
                                           ("in", "the watched folder in is gone")])
def test_a_lost_folder_ends_the_watch_with_exit_4(watch, tmp_path, lost, message):
    (tmp_path / "in").mkdir()
    run = watch("compress", "in", "--watch", "--settle", SETTLE, "--out", "out")
    (tmp_path / "in/a.txt").write_text("a" * 100)
    run.line("ok: in/a.txt")
    shutil.rmtree(tmp_path / lost)
    assert run.process.wait(20) == 4
    run.stop()
    assert run.errors[-1].endswith(f"stopped: {message}")
