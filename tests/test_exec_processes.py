"""exec and the processes it starts: --timeout, Ctrl-C, SIGTERM, --max-memory, leftovers.

The command is a real program (this Python, running SPAWNER) that starts what commands start:
a child in its process group, a child that moves to a session of its own, and a daemon that
double-forks into its own session and is orphaned at once. Each writes its pid in a folder,
and afterwards none may be alive.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import file_records, write_files

SPAWNER = '''
import os, sys, time
pids, source = sys.argv[1], sys.argv[2]
mode = open(source).read().strip()


def note(kind):
    open(os.path.join(pids, f"{kind}-{os.getpid()}-{os.path.basename(source)}"), "w").close()


note("command")
open(os.path.join(pids, f"worker-{os.getppid()}-{os.path.basename(source)}"), "w").close()
if os.fork() == 0:  # in the command's own process group
    note("child"); time.sleep(300); os._exit(0)
if os.fork() == 0:  # in a session of its own, its parent alive
    os.setsid(); note("session"); time.sleep(300); os._exit(0)
if os.fork() == 0:  # a daemon: its own session, its parent gone at once
    os.setsid()
    if os.fork() == 0:
        note("daemon"); time.sleep(300); os._exit(0)
    os._exit(0)
while len([n for n in os.listdir(pids) if n.endswith("-" + os.path.basename(source))]) < 5:
    time.sleep(0.01)  # every pid is written down before anything is judged
if mode == "hang":
    time.sleep(300)
elif mode.startswith("sleep"):
    time.sleep(float(mode.split()[1]))
elif mode.startswith("eat"):
    hog = b"x" * (int(mode.split()[1]) << 20)
    time.sleep(300)
'''


@pytest.fixture
def spawner(tmp_path):
    """(the --cmd that runs SPAWNER on each file, the folder of pids it writes)."""
    (tmp_path / "spawner.py").write_text(SPAWNER)
    pids = tmp_path / "pids"
    pids.mkdir()
    return f"{sys.executable} {tmp_path / 'spawner.py'} {pids} {{}}", pids


def pids_of(pids: Path, kind: str | None = None) -> set[int]:
    return {int(name.split("-")[1]) for name in os.listdir(pids) if kind in (None, name.split("-")[0])
            and not name.startswith("worker-")}


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def still_alive(pids: set[int], patience: float = 5.0) -> set[int]:
    """Those of `pids` alive after `patience` seconds at most (a killed process takes a moment)."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.05)
    return {pid for pid in pids if alive(pid)}


def test_timeout_kills_the_command_and_all_it_started_and_the_worker_goes_on(cli, spawner, tmp_path):
    command, pids = spawner
    write_files(tmp_path / "in", {"a.txt": "hang", "b.txt": "exit", "c.txt": "exit"})
    started = time.monotonic()
    result = cli("exec", tmp_path / "in", "--no-output", "--jobs", 1, "--timeout", 2, "--cmd", command)
    assert result.exit_code == 1
    assert time.monotonic() - started < 10
    assert f"failed: {tmp_path / 'in/a.txt'}: timed out after 2 s" in result.stderr
    assert result.stderr.count("failed: ") == 1
    assert "exec: 2 ok, 0 skipped, 1 failed" in result.stderr
    assert len(pids_of(pids, "daemon")) == len(pids_of(pids, "session")) == 3
    assert still_alive(pids_of(pids)) == set()  # nothing left: not the hung one's, not the others'
    workers = {name.split("-")[1] for name in os.listdir(pids) if name.startswith("worker-")}
    assert len(workers) == 1  # the worker killed the command, not itself: it ran the next files


def test_leftovers_of_a_command_that_exits_are_killed_when_it_exits(cli, spawner, tmp_path):
    command, pids = spawner
    write_files(tmp_path / "in", {"a.txt": "exit"})
    result = cli("exec", tmp_path / "in", "--no-output", "--cmd", command)
    assert result.exit_code == 0, result
    assert len(pids_of(pids)) == 4
    assert still_alive(pids_of(pids)) == set()


def batchproc_in_background(*args, log: Path):
    """batchproc as a terminal would run it: the leader of its own process group."""
    return subprocess.Popen([sys.executable, "-m", "batchproc", *map(str, args), "--log", str(log)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def test_ctrl_c_lets_the_commands_in_flight_finish(spawner, tmp_path):
    command, pids = spawner
    write_files(tmp_path / "in", {f"f{i:02d}.txt": "sleep 1" for i in range(12)})
    run = batchproc_in_background("exec", tmp_path / "in", "--no-output", "--jobs", 2, "--cmd", command,
                                  log=tmp_path / "log")
    wait_for(lambda: len(pids_of(pids, "command")) >= 2)
    os.killpg(run.pid, signal.SIGINT)  # the terminal signals its whole foreground process group
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 130, stderr
    records = file_records(tmp_path / "log")
    assert len(records) == 12
    done = [r for r in records if r["status"] == "ok"]
    assert 2 <= len(done) < 12  # the commands running at Ctrl-C were not interrupted
    assert {(r["status"], r["error"]) for r in records if r not in done} == {
        ("skipped", "not started (interrupted)")}
    assert still_alive(pids_of(pids)) == set()


@pytest.mark.parametrize("stop", ["SIGTERM", "second SIGINT"])
def test_sigterm_or_a_second_ctrl_c_leaves_no_command_behind(spawner, tmp_path, stop):
    command, pids = spawner
    write_files(tmp_path / "in", {f"f{i}.txt": "hang" for i in range(4)})
    run = batchproc_in_background("exec", tmp_path / "in", "--no-output", "--jobs", 2, "--cmd", command,
                                  log=tmp_path / "log")
    wait_for(lambda: len(pids_of(pids)) >= 8)  # two commands and all they started
    if stop == "SIGTERM":
        run.send_signal(signal.SIGTERM)
    else:
        os.killpg(run.pid, signal.SIGINT)
        time.sleep(0.3)
        os.killpg(run.pid, signal.SIGINT)
    _, stderr = run.communicate(timeout=30)
    assert run.returncode == (143 if stop == "SIGTERM" else 130), stderr
    assert still_alive(pids_of(pids)) == set()
    assert not [p for p in (tmp_path / "in").iterdir() if p.name.startswith(".batchproc-")]


def test_max_memory_counts_the_commands_memory(cli, spawner, tmp_path):
    command, pids = spawner
    write_files(tmp_path / "in", {"big.txt": "eat 400", "small.txt": "exit"})
    result = cli("exec", tmp_path / "in", "--no-output", "--jobs", 1, "--max-memory", "200M", "--cmd", command)
    assert result.exit_code == 1
    assert f"failed: {tmp_path / 'in/big.txt'}: needs more than 200 MB (--max-memory)" in result.stderr
    assert "exec: 1 ok, 0 skipped, 1 failed" in result.stderr
    assert still_alive(pids_of(pids)) == set()


def test_shell_not_found_stops_the_run_after_the_files_in_flight(cli, tmp_path):
    write_files(tmp_path / "in", {f"f{i}.txt": "x" for i in range(6)})
    result = cli("exec", tmp_path / "in", "--jobs", 1, "--shell", "--cmd", "no-such-program-for-batchproc {} > {out}")
    assert result.exit_code == 4
    lines = result.stderr.splitlines()
    assert lines[0] == f"failed: {tmp_path / 'in/f0.txt'}: exit status 127: /bin/sh: 1: no-such-program-for-batchproc: not found"
    # The file in flight, and perhaps the first of the worker's next chunk, already sent: the rest never start.
    summary = re.fullmatch(r"exec: 0 ok, (\d) skipped \(\d not started\), (\d) failed; .* s; "
                           r"stopped: the shell could not find the command \(exit status 127\)", lines[-1])
    assert summary and int(summary[1]) + int(summary[2]) == 6 and int(summary[2]) <= 2, lines[-1]
    assert not list((tmp_path / "in_exec").iterdir())


def test_a_program_named_by_the_file_fails_that_file_alone(cli, tmp_path):
    write_files(tmp_path / "in", {"a.sh": "#!/bin/sh\necho ran a\n", "b.sh": "#!/bin/sh\necho ran b\n"})
    os.chmod(tmp_path / "in/a.sh", 0o755)
    result = cli("exec", tmp_path / "in", "--no-output", "--json", "--cmd", "{}")
    assert result.exit_code == 1
    by_name = {Path(r["input"]).name: r for r in map(json.loads, result.stdout.splitlines())}
    assert by_name["a.sh"]["stdout"] == "ran a"
    assert by_name["b.sh"]["error"] == f"cannot run {tmp_path / 'in/b.sh'}: Permission denied"


def test_commands_inherit_only_stdin_stdout_and_stderr(cli, tmp_path):
    write_files(tmp_path / "in", {"a.txt": "x"})
    (tmp_path / "fds.py").write_text("import os\nprint(' '.join(sorted(os.listdir('/proc/self/fd'))))\n")
    result = cli("exec", tmp_path / "in", "--no-output", "--json", "--cmd",
                 f"{sys.executable} {tmp_path / 'fds.py'}")
    assert result.exit_code == 0, result
    open_fds = json.loads(result.stdout)["stdout"].split()
    assert set(open_fds) <= {"0", "1", "2", "3"}  # 3: the listing's own, while it lists
