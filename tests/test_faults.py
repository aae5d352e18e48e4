"""Fault drills: nothing hangs, nothing is lost, nothing is clobbered, exit codes tell the truth."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import file_records, write_files


def log_records(path):
    return file_records(path)


def statuses(path):
    return {Path(r["input"]).name: (r["status"], r["error"]) for r in log_records(path)}


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead too
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("command, reason", [
    ("kill", "worker died: SIGKILL (quarantined after 2 attempts)"),
    ("segfault", "worker died: SIGSEGV (quarantined after 2 attempts)"),
    ("exit", "worker died: exit code 3 (quarantined after 2 attempts)"),
])
def test_a_worker_death_costs_one_file_only(cli, hazard, tmp_path, command, reason):
    files = {f"ok{i}.txt": "fine" for i in range(8)}
    write_files(tmp_path / "in", {**files, "bad.txt": command, "once.txt": "kill-once"})
    result = cli("hazard", tmp_path / "in", "--jobs", 2, "--log", tmp_path / "log")
    assert result.exit_code == 1, result
    outcome = statuses(tmp_path / "log")
    assert outcome.pop("bad.txt") == ("failed", reason)
    assert outcome == {name: ("ok", None) for name in [*files, "once.txt"]}  # retried once: ok
    assert f"failed: {tmp_path / 'in/bad.txt'}: {reason}" in result.stderr


def test_quarantined_files_are_skipped_next_time_until_retry_failed(cli, hazard, tmp_path):
    write_files(tmp_path / "in", {"bad.txt": "kill", "good.txt": "fine"})
    assert cli("hazard", tmp_path / "in", "--jobs", 1).exit_code == 1
    again = cli("hazard", tmp_path / "in", "--jobs", 1, "--log", tmp_path / "log")
    assert again.exit_code == 0
    assert statuses(tmp_path / "log")["bad.txt"] == (
        "skipped", "quarantined: worker died: SIGKILL (quarantined after 2 attempts) (use --retry-failed)")
    (tmp_path / "in/bad.txt").write_text("fine")  # fixed: changed inputs are tried again anyway
    assert cli("hazard", tmp_path / "in", "--jobs", 1).exit_code == 0


@pytest.mark.parametrize("command, reason", [
    ("systemexit", "step hazard tried to exit the worker"),
    ("keyboardinterrupt", "step hazard was interrupted"),
    ("unpicklable-error", "step hazard failed unexpectedly: cannot"),
    ("unpicklable-return", "step hazard returned a value that cannot be sent back"),
])
def test_hostile_exceptions_and_values_are_that_files_error(cli, hazard, tmp_path, command, reason):
    write_files(tmp_path / "in", {"bad.txt": command, "good.txt": "fine"})
    result = cli("hazard", tmp_path / "in", "--jobs", 1, "--log", tmp_path / "log")
    assert result.exit_code == 1
    outcome = statuses(tmp_path / "log")
    assert outcome["good.txt"] == ("ok", None)
    assert outcome["bad.txt"][0] == "failed" and outcome["bad.txt"][1].startswith(reason)


def test_timeout_kills_a_hung_file_and_the_run_goes_on(cli, hazard, tmp_path):
    write_files(tmp_path / "in", {"hung.txt": "hang", **{f"ok{i}.txt": "fine" for i in range(6)}})
    started = time.monotonic()
    result = cli("hazard", tmp_path / "in", "--jobs", 2, "--timeout", 1, "--log", tmp_path / "log")
    assert time.monotonic() - started < 20
    assert result.exit_code == 1
    outcome = statuses(tmp_path / "log")
    assert outcome.pop("hung.txt") == ("failed", "timed out after 1 s")
    assert set(outcome.values()) == {("ok", None)}


def test_retries_rerun_transient_failures(cli, hazard, tmp_path):
    write_files(tmp_path / "in", {"flaky.txt": "flaky", "good.txt": "fine"})
    assert cli("hazard", tmp_path / "in", "--out", tmp_path / "no-retry", "--jobs", 1).exit_code == 1
    for marker in (tmp_path / "in").glob(".*.attempted"):
        marker.unlink()
    result = cli("hazard", tmp_path / "in", "--out", tmp_path / "retry", "--retries", 1, "--jobs", 1,
                 "--log", tmp_path / "log")
    assert result.exit_code == 0
    assert statuses(tmp_path / "log")["flaky.txt"] == ("ok", None)


@pytest.mark.parametrize("budget, expected_ok", [("2", 0), ("50%", 0)])
def test_failure_budget_stops_the_run(cli, hazard, tmp_path, budget, expected_ok):
    write_files(tmp_path / "in", {f"f{i:02}.txt": "fail" for i in range(30)})
    result = cli("hazard", tmp_path / "in", "--jobs", 1, "--max-failures", budget, "--log", tmp_path / "log")
    assert result.exit_code == 3
    assert "failure budget" in result.stderr
    outcome = [status for status, _ in statuses(tmp_path / "log").values()]
    assert outcome.count("failed") < 30 and "ok" not in outcome
    assert len(outcome) == 30  # every file accounted for: the rest are skipped as not started


def test_disk_full_stops_early_with_one_clear_error(cli, hazard, tmp_path):
    write_files(tmp_path / "in", {f"f{i:02}.txt": "enospc" for i in range(20)})
    result = cli("hazard", tmp_path / "in", "--jobs", 1, "--log", tmp_path / "log")
    assert result.exit_code == 4
    assert result.stderr.count("No space left on device") <= 3  # not one line per remaining file
    assert "stopped: No space left on device" in result.stderr
    assert not [p for p in (tmp_path / "in_out").rglob("*.txt*")]  # no partial outputs
    assert len(log_records(tmp_path / "log")) == 20


@pytest.fixture
def small_disk(tmp_path):
    """A 300 KB tmpfs, when this machine lets us mount one (root in CI does)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mount_point)],
                          capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_real_full_disk_leaves_only_whole_outputs(cli, tmp_path, small_disk):
    from PIL import Image

    from images import photo

    (tmp_path / "in").mkdir()
    for i in range(30):
        photo(400, 300, seed=i).save(tmp_path / f"in/{i:02}.png")  # ~100 KB of PNG each
    result = cli("resize", tmp_path / "in", "--out", small_disk / "out", "--width", 300, "--jobs", 2,
                 "--log", tmp_path / "log")
    assert result.exit_code == 4, result
    assert "stopped: No space left on device" in result.stderr
    assert not list((small_disk / "out").glob(".batchproc-*"))
    written = list((small_disk / "out").glob("*.png"))
    assert 0 < len(written) < 30
    for path in written:  # every output that exists is whole
        with Image.open(path) as image:
            image.load()
    records = log_records(tmp_path / "log")
    assert len(records) == 30 and sum(r["status"] == "failed" for r in records) <= 4


def test_retry_failed_reruns_only_the_failures(cli, hazard, tmp_path):
    write_files(tmp_path / "in", {"flaky.txt": "flaky", "good.txt": "fine"})
    assert cli("hazard", tmp_path / "in", "--jobs", 1).exit_code == 1
    write_files(tmp_path / "in", {"new.txt": "fine"})
    result = cli("hazard", tmp_path / "in", "--jobs", 1, "--retry-failed", "--log", tmp_path / "log")
    assert result.exit_code == 0
    assert statuses(tmp_path / "log") == {
        "flaky.txt": ("ok", None),
        "good.txt": ("skipped", "not a failure of the last run (--retry-failed)"),
        "new.txt": ("skipped", "not a failure of the last run (--retry-failed)"),
    }


def test_input_changing_while_processed_is_reported(cli, hazard, tmp_path):
    write_files(tmp_path / "in", {"grows.txt": "grow"})
    result = cli("hazard", tmp_path / "in", "--jobs", 1)
    assert result.exit_code == 1 and "grows.txt: input changed while it was being processed" in result.stderr


def test_unwritable_output_folder_is_one_error(cli, hazard, tmp_path):
    write_files(tmp_path / "in", {"a.txt": "fine"})
    (tmp_path / "file").write_text("a file where a folder should be")
    result = cli("hazard", tmp_path / "in", "--out", tmp_path / "file/out", "--jobs", 1)
    assert result.exit_code == 4
    assert result.stderr.startswith("Error: cannot write to") and "Not a directory" in result.stderr


def test_a_second_run_on_the_same_output_exits_at_once(cli, hazard, tmp_path, batchproc_process):
    write_files(tmp_path / "in", {"slow.txt": "sleep 30"})
    first = subprocess.Popen([sys.executable, "-m", "batchproc", "hazard", str(tmp_path / "in"), "--jobs", "1"],
                             stderr=subprocess.PIPE, env={**os.environ})
    try:
        deadline = time.monotonic() + 20  # the first run has locked its output once it exists
        while not (tmp_path / "in_out").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        started = time.monotonic()
        second = cli("hazard", tmp_path / "in", "--jobs", 1)
        assert time.monotonic() - started < 5
        assert second.exit_code == 75
        assert second.stderr == f"Error: another batchproc run (pid {first.pid}) is writing to {tmp_path / 'in_out'}\n"
    finally:
        first.kill()
        first.wait()
    # the kernel dropped the dead run's lock: the next run goes ahead
    write_files(tmp_path / "in", {"slow.txt": "fine"})
    assert cli("hazard", tmp_path / "in", "--jobs", 1).exit_code == 0


def start_run(tmp_path, *args):
    return subprocess.Popen(
        [sys.executable, "-m", "batchproc", "hazard", str(tmp_path / "in"), "--log", str(tmp_path / "log"),
         "--pids", str(tmp_path / "pids"), *map(str, args)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ})


def wait_for(condition, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def worker_pids(tmp_path):
    return [int(p.name) for p in (tmp_path / "pids").iterdir()]


def children(pid):
    """The processes whose parent is `pid` (a run's forkserver and resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def test_ctrl_c_finishes_files_in_flight_then_a_rerun_continues(hazard, tmp_path):
    write_files(tmp_path / "in", {f"f{i:02}.txt": "sleep 0.4" for i in range(20)})
    (tmp_path / "pids").mkdir()
    run = start_run(tmp_path, "--jobs", 2)
    assert wait_for(lambda: (tmp_path / "log").exists() and len(log_records(tmp_path / "log")) >= 2)
    helpers = children(run.pid)  # the forkserver (and resource tracker) the workers came from
    assert helpers
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=20)
    assert run.returncode == 130, err
    assert b"interrupted" in err and b"Traceback" not in err
    records = log_records(tmp_path / "log")
    done = [r for r in records if r["status"] == "ok"]
    assert 2 <= len(done) < 20
    assert all(r["status"] in ("ok", "skipped") for r in records)
    assert len({r["input"] for r in records}) == len(records)  # no file twice
    assert not list((tmp_path / "in_out").glob(".batchproc-*"))  # no temporaries left
    assert wait_for(lambda: not any(alive(pid) for pid in worker_pids(tmp_path) + helpers), 5)
    write_files(tmp_path / "in", {"added.txt": "fine"})  # resume is keyed by file, not by position
    rerun = subprocess.run([sys.executable, "-m", "batchproc", "hazard", str(tmp_path / "in"), "--jobs", "2",
                            "--pids", str(tmp_path / "pids")], capture_output=True, text=True, timeout=60)
    assert rerun.returncode == 0
    assert f"{20 - len(done) + 1} ok" in rerun.stderr and f"{len(done)} up to date" in rerun.stderr


@pytest.mark.parametrize("signals, code", [((signal.SIGINT, signal.SIGINT), 130), ((signal.SIGTERM,), 143)])
def test_second_ctrl_c_or_sigterm_stops_at_once(hazard, tmp_path, signals, code):
    write_files(tmp_path / "in", {f"f{i}.txt": "sleep 30" for i in range(4)})
    (tmp_path / "pids").mkdir()
    run = start_run(tmp_path, "--jobs", 2)
    assert wait_for(lambda: len(list((tmp_path / "pids").iterdir())) == 2)
    time.sleep(0.5)
    started = time.monotonic()
    for signum in signals:
        run.send_signal(signum)
        time.sleep(0.2)
    run.communicate(timeout=20)
    assert time.monotonic() - started < 5
    assert run.returncode == code
    assert not any(alive(pid) for pid in worker_pids(tmp_path))
    assert [r["status"] for r in log_records(tmp_path / "log")] == ["skipped"] * 4
    assert not [p for p in (tmp_path / "in_out").rglob("*") if p.is_file()]


def test_workers_exit_soon_after_the_parent_is_killed(hazard, tmp_path):
    write_files(tmp_path / "in", {f"f{i}.txt": "sleep 60" for i in range(2)})
    (tmp_path / "pids").mkdir()
    run = start_run(tmp_path, "--jobs", 2)
    assert wait_for(lambda: len(list((tmp_path / "pids").iterdir())) == 2)
    helpers = children(run.pid)
    run.kill()
    run.wait()
    assert wait_for(lambda: not any(alive(pid) for pid in worker_pids(tmp_path) + helpers), 5)


def test_a_file_that_needs_more_memory_than_allowed_fails_alone_and_fast(cli, hazard, tmp_path):
    write_files(tmp_path / "in", {"hog.txt": "eat 600", **{f"ok{i}.txt": "fine" for i in range(4)}})
    started = time.monotonic()
    result = cli("hazard", tmp_path / "in", "--jobs", 2, "--max-memory", "300M", "--log", tmp_path / "log")
    assert result.exit_code == 1
    assert time.monotonic() - started < 10
    outcome = statuses(tmp_path / "log")
    assert outcome["hog.txt"] == ("failed", "needs more than 300 MB (--max-memory)")
    assert [outcome[f"ok{i}.txt"][0] for i in range(4)] == ["ok"] * 4
    again = cli("hazard", tmp_path / "in", "--jobs", 2, "--max-memory", "300M")
    assert again.exit_code == 0  # not retried as a crash, nor next time: until it changes
    assert "1 quarantined" in again.stderr


@pytest.mark.parametrize("value", ["lots", "0", "2X", "10k"])
def test_a_bad_memory_ceiling_is_a_usage_error(cli, hazard, tmp_path, value):
    write_files(tmp_path / "in", {"a.txt": "fine"})
    result = cli("hazard", tmp_path / "in", "--max-memory", value)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: bad --max-memory")
    assert not (tmp_path / "in_out").exists()


def test_retries_try_a_timed_out_file_again(cli, hazard, tmp_path):
    # Slow the first time only (as a busy machine would be): with --retries it ends ok.
    write_files(tmp_path / "in", {"slow.txt": "slow-once 30", "ok.txt": "fine"})
    result = cli("hazard", tmp_path / "in", "--jobs", 1, "--timeout", 1, "--retries", 1,
                 "--log", tmp_path / "log")
    assert result.exit_code == 0, result
    assert statuses(tmp_path / "log")["slow.txt"] == ("ok", None)
