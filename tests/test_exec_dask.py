"""exec on a real Dask cluster (2 worker processes on loopback): the commands run on the
workers, with the same outputs, records and timeouts as a local run."""

import gzip
import json
import os
import sys

import pytest

from conftest import write_files
from test_exec_processes import SPAWNER, pids_of, still_alive


@pytest.fixture(scope="module")
def scheduler():
    pytest.importorskip("distributed", reason="Dask is not installed: pip install 'batchproc[dask]'")
    from batchproc.dask.cluster import local_cluster

    with local_cluster(2) as cluster:
        yield cluster.scheduler_address


def test_exec_on_the_cluster_writes_what_a_local_run_writes(cli, scheduler, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path / "logs", {f"f{i}.log": f"line {i}\n" * (i + 1) for i in range(8)})
    command = ["--stdout", "--name", "{/}.gz", "--cmd", "gzip -c -n {}", "--check", "gzip -t {out}"]
    local = cli("exec", "logs", "--out", "local", *command, "--json")
    dask = cli("exec", "logs", "--out", "remote", *command, "--json", "--executor", "dask", "--scheduler", scheduler)
    assert dask.exit_code == local.exit_code == 0, dask.stderr
    for i in range(8):
        made = (tmp_path / f"remote/f{i}.log.gz").read_bytes()
        assert made == (tmp_path / f"local/f{i}.log.gz").read_bytes()
        assert gzip.decompress(made) == (tmp_path / f"logs/f{i}.log").read_bytes()
    records = [json.loads(line) for line in dask.stdout.splitlines()]
    assert sorted(r["input"] for r in records) == [f"logs/f{i}.log" for i in range(8)]  # as given
    assert {r["exit_status"] for r in records} == {0}
    again = cli("exec", "logs", "--out", "remote", *command, "--executor", "dask", "--scheduler", scheduler)
    assert again.stderr.startswith("exec: 0 ok, 8 skipped (8 up to date)")


def test_a_failure_on_the_cluster_names_the_paths_the_user_gave(cli, scheduler, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path / "in", {"a.txt": "x"})
    result = cli("exec", "in", "--shell", "--cmd", "echo cannot write {out} >&2; exit 2",
                 "--executor", "dask", "--scheduler", scheduler)
    assert result.exit_code == 1
    assert "failed: in/a.txt: exit status 2: cannot write in_exec/a.txt" in result.stderr


def test_timeout_on_the_cluster_kills_the_command_and_what_it_started(cli, scheduler, tmp_path):
    (tmp_path / "spawner.py").write_text(SPAWNER)
    pids = tmp_path / "pids"
    pids.mkdir()
    write_files(tmp_path / "in", {"a.txt": "hang", "b.txt": "exit"})
    result = cli("exec", tmp_path / "in", "--no-output", "--timeout", 2, "--executor", "dask",
                 "--scheduler", scheduler, "--cmd", f"{sys.executable} {tmp_path / 'spawner.py'} {pids} {{}}")
    assert result.exit_code == 1
    assert f"failed: {tmp_path / 'in/a.txt'}: timed out after 2 s" in result.stderr
    assert "exec: 1 ok, 0 skipped, 1 failed" in result.stderr
    assert len(pids_of(pids)) == 8
    assert still_alive(pids_of(pids)) == set()
    assert os.getpid() not in {int(n.split("-")[1]) for n in os.listdir(pids) if n.startswith("worker-")}


def test_a_program_missing_on_the_workers_stops_the_run_with_one_error(cli, scheduler, tmp_path, monkeypatch):
    # Installed here only: on the client's PATH, not on the workers' (their PATH is the cluster's).
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin/only-on-the-client").write_text("#!/bin/sh\ncat \"$@\"\n")
    os.chmod(tmp_path / "bin/only-on-the-client", 0o755)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    write_files(tmp_path / "in", {"a.txt": "x", "b.txt": "y"})
    result = cli("exec", tmp_path / "in", "--stdout", "--cmd", "only-on-the-client {}",
                 "--executor", "dask", "--scheduler", scheduler)
    assert result.exit_code == 4
    assert result.stderr.startswith("Error: Dask worker tcp://127.0.0.1:")
    assert result.stderr.rstrip().endswith("cannot start the step: --cmd: command not found: only-on-the-client")
    assert len(result.stderr.splitlines()) == 1


def test_a_watch_runs_its_arrivals_on_the_cluster(watch, scheduler, tmp_path):
    """--watch with the Dask executor: each file that settles is one chunk on the cluster; an
    idle watch waits on its feed (no chunk out), and Ctrl-C still ends it at once."""
    pytest.importorskip("watchdog")
    (tmp_path / "logs").mkdir()
    run = watch("exec", "logs", "--out", "packed", "--ext", ".gz", "--stdout", "--cmd", "gzip -n -c {}",
                "--watch", "--settle", "0.3", "--json", "--executor", "dask", "--scheduler", scheduler)
    assert run.quiet_for(1.0) == []
    (tmp_path / "logs/a.txt").write_text("a\n" * 100)
    record = run.record()
    assert (record["status"], record["output"]) == ("ok", "packed/a.gz")
    assert gzip.decompress((tmp_path / "packed/a.gz").read_bytes()) == b"a\n" * 100
    assert run.stop() == 130
