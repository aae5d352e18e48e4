"""--executor dask: the same command on a real Dask cluster (worker processes over TCP on loopback).

One cluster serves the whole module; the `drill` plugin is installed (a dist-info on PYTHONPATH)
before it starts, so that its worker processes load it as installed there.
"""

import importlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import file_records
from images import write_tree
from installed import write_plugin_package

DRILL_PLUGIN = '''
"""Upper-case text files, misbehaving as their content says; the worker's pid goes in the record."""
import os, signal, time
from batchproc import Step, hookimpl


class Drill(Step):
    """Upper-case text files, or misbehave on command.

    Example: batchproc drill notes/
    """
    name = "drill"
    summary = "Upper-case text files; misbehave on command (Dask drills)."
    extensions = frozenset({".txt"})
    output_suffix = "_drilled"
    max_chunk = 4

    def process(self, source, target):
        command = source.read_text().strip()
        marker = str(source) + ".attempted"
        if command == "kill-once" and not os.path.exists(marker):
            open(marker, "w").close()
            target.write_text("half")  # a temporary output left behind
            os.kill(os.getpid(), signal.SIGKILL)
        elif command == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif command == "hang":
            target.write_text("half")
            time.sleep(3600)
        elif command.startswith("sleep"):
            time.sleep(float(command.split()[1]))
        elif command == "unreadable":
            open(str(source) + ".missing").close()
        target.write_text(command.upper())
        return {"pid": os.getpid()}


@hookimpl
def register_steps(register):
    register(Drill)
'''

LONELY_PLUGIN = '''
from batchproc import Step, hookimpl


class Lonely(Step):
    """Installed here, not on the workers.

    Example: batchproc lonely notes/
    """
    name = "lonely"
    summary = "Installed on the client only."

    def process(self, source, target):
        target.write_bytes(source.read_bytes())


@hookimpl
def register_steps(register):
    register(Lonely)
'''


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """The address of a LocalCluster of 2 worker processes, 1 thread each, with `drill` installed.

    A chunk may be on 2 workers that die (allowed-failures 1) before Dask gives up on it: the
    default, 3, only makes the worker-killing tests slower."""
    pytest.importorskip("distributed", reason="Dask is not installed: pip install 'batchproc[dask]'")
    import dask

    from batchproc.dask.cluster import local_cluster

    site = tmp_path_factory.mktemp("site-packages")
    write_plugin_package(site, "drill_plugin", DRILL_PLUGIN)
    saved = {name: os.environ.get(name) for name in ("PYTHONPATH", "BATCHPROC_LOAD_PLUGINS")}
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), saved["PYTHONPATH"]]))
    os.environ["BATCHPROC_LOAD_PLUGINS"] = saved["BATCHPROC_LOAD_PLUGINS"] + ",drill_plugin"
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    try:
        with dask.config.set({"distributed.scheduler.allowed-failures": 1}), local_cluster(2) as cluster:
            yield cluster.scheduler_address
    finally:
        sys.path.remove(str(site))
        sys.modules.pop("drill_plugin", None)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def read_log(path):
    return file_records(path)


def by_input(records, drop=("ms", "pid", "run")):
    return {r["input"]: {k: v for k, v in r.items() if k not in drop} for r in records}


def worker_pids(address):
    from distributed import Client

    with Client(address, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=30)
        return set(client.run(os.getpid).values())


def write_notes(folder: Path, contents: dict[str, str]) -> Path:
    for name, text in contents.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def outputs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def leftovers(folder: Path) -> list[str]:
    """Temporary outputs left behind (the state folder, .batchproc, is not one)."""
    return [p.name for p in folder.iterdir() if p.name.startswith(".batchproc-")]


def test_without_dask_the_dask_executor_is_one_clear_error(cli, tmp_path, monkeypatch):
    write_tree(tmp_path / "imgs", {"a.jpg": (40, 30)})
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if Dask were not installed
    for module in ("batchproc.dask_executor", "batchproc.dask_cluster", "batchproc.dask_worker"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    result = cli("resize", tmp_path / "imgs", "--executor", "dask")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --executor dask needs Dask: pip install 'batchproc[dask]'")
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "imgs_resized").exists()  # refused before any output folder is made


def test_a_scheduler_with_the_local_executor_is_a_usage_error(cli, tmp_path):
    write_tree(tmp_path / "imgs", {"a.jpg": (40, 30)})
    result = cli("resize", tmp_path / "imgs", "--executor", "local", "--scheduler", "tcp://127.0.0.1:8786")
    assert result.exit_code == 2
    assert result.stderr == "Error: --scheduler tcp://127.0.0.1:8786 needs --executor dask (the executor is local)\n"
    assert not (tmp_path / "imgs_resized").exists()


def test_resize_on_the_cluster_writes_what_a_local_run_writes(cli, scheduler, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative paths in, relative paths in the records
    write_tree(tmp_path / "imgs", {"a.jpg": (400, 300), "b.png": (300, 300), "sub/c.jpg": (200, 500),
                                   "sub/deep/d.webp": (320, 240)})
    (tmp_path / "imgs/notes.txt").write_text("not an image")
    local = cli("resize", "imgs", "--out", "local", "--size", "100x100", "--log", "local.log")
    dask = cli("resize", "imgs", "--out", "remote", "--size", "100x100", "--log", "remote.log",
               "--executor", "dask", "--scheduler", scheduler)
    assert dask.exit_code == local.exit_code == 0
    assert dask.stderr.startswith("resize: 4 ok, 1 skipped (1 not an image), 0 failed")
    remote_records = read_log("remote.log")
    assert {tuple(r) for r in remote_records} == {tuple(r) for r in read_log("local.log")}
    expected = {path: {**record, "output": record["output"] and record["output"].replace("local", "remote")}
                for path, record in by_input(read_log("local.log")).items()}
    assert by_input(remote_records) == expected
    for output in ("a.jpg", "b.png", "sub/c.jpg", "sub/deep/d.webp"):
        assert (tmp_path / "remote" / output).read_bytes() == (tmp_path / "local" / output).read_bytes()
    again = cli("resize", "imgs", "--out", "remote", "--size", "100x100",
                "--executor", "dask", "--scheduler", scheduler)
    assert again.exit_code == 0
    assert again.stderr.startswith("resize: 0 ok, 5 skipped (4 up to date, 1 not an image)")


def test_checksum_on_the_cluster_prints_the_local_manifest(cli, scheduler, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_notes(tmp_path / "files", {f"f{i}.bin": f"content {i}" * i for i in range(30)})
    local = cli("checksum", "files")
    dask = cli("checksum", "files", "--executor", "dask", "--scheduler", scheduler)
    assert dask.exit_code == local.exit_code == 0
    assert sorted(dask.stdout.splitlines()) == sorted(local.stdout.splitlines())


def test_a_scheduler_from_the_environment_or_a_job_file_means_dask(cli, scheduler, tmp_path, monkeypatch):
    notes = write_notes(tmp_path / "notes", {f"n{i}.txt": f"note {i}" for i in range(6)})
    monkeypatch.setenv("BATCHPROC_SCHEDULER", scheduler)
    from_env = cli("drill", notes, "--json")
    monkeypatch.delenv("BATCHPROC_SCHEDULER")
    (tmp_path / "nightly.toml").write_text(
        f'[jobs.shout]\nstep = "drill"\ninputs = ["notes"]\nout = "shouted"\nscheduler = "{scheduler}"\n')
    from_job = cli("run", tmp_path / "nightly.toml", "--quiet")
    assert from_env.exit_code == from_job.exit_code == 0, from_env.stderr + from_job.stderr
    assert (tmp_path / "shouted/n5.txt").read_text() == "NOTE 5"
    ran_on = {json.loads(line)["pid"] for line in from_env.stdout.splitlines()}
    assert os.getpid() not in ran_on and ran_on <= worker_pids(scheduler)


def test_chunks_run_on_the_workers_and_a_killed_worker_costs_no_file(cli, scheduler, tmp_path):
    notes = write_notes(tmp_path / "notes", {f"n{i:02d}.txt": f"note {i}" for i in range(16)})
    (notes / "n07.txt").write_text("kill-once")  # SIGKILLs its worker on the first attempt
    result = cli("drill", notes, "--executor", "dask", "--scheduler", scheduler, "--log", tmp_path / "log")
    assert result.exit_code == 0, result.stderr
    assert (notes / "n07.txt.attempted").exists()  # a worker did die
    assert leftovers(tmp_path / "notes_drilled") == []
    assert (tmp_path / "notes_drilled/n07.txt").read_text() == "KILL-ONCE"
    assert (tmp_path / "notes_drilled/n03.txt").read_text() == "NOTE 3"
    records = read_log(tmp_path / "log")
    assert len(records) == 16 and {r["status"] for r in records} == {"ok"}
    ran_on = {r["pid"] for r in records}
    assert os.getpid() not in ran_on and ran_on & worker_pids(scheduler)  # the cluster's processes


def test_a_file_that_keeps_killing_workers_fails_alone(cli, scheduler, tmp_path):
    notes = write_notes(tmp_path / "notes", {f"n{i}.txt": f"note {i}" for i in range(4)})
    (notes / "n2.txt").write_text("kill")
    result = cli("drill", notes, "--executor", "dask", "--scheduler", scheduler)
    assert result.exit_code == 1
    assert f"failed: {notes / 'n2.txt'}: worker died (quarantined after 2 attempts)" in result.stderr
    assert result.stderr.count("failed: ") == 1
    assert outputs(tmp_path / "notes_drilled") == ["n0.txt", "n1.txt", "n3.txt"]


def test_timeout_fails_the_stuck_file_and_replaces_its_worker(cli, scheduler, tmp_path):
    notes = write_notes(tmp_path / "notes", {f"n{i}.txt": f"note {i}" for i in range(6)})
    (notes / "n4.txt").write_text("hang")
    result = cli("drill", notes, "--executor", "dask", "--scheduler", scheduler, "--timeout", "1")
    assert result.exit_code == 1
    assert f"failed: {notes / 'n4.txt'}: timed out after 1 s" in result.stderr
    assert outputs(tmp_path / "notes_drilled") == ["n0.txt", "n1.txt", "n2.txt", "n3.txt", "n5.txt"]
    assert leftovers(tmp_path / "notes_drilled") == []
    assert len(worker_pids(scheduler)) == 2  # the stuck worker was killed and replaced


def test_errors_name_the_paths_the_user_gave(cli, scheduler, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_notes(tmp_path / "notes", {"a.txt": "unreadable", "sub/b.txt": "fine", "c.txt": "fine"})
    for out in ("local", "remote"):
        write_notes(tmp_path / out, {"sub": "a file where the output folder must go"})
    local = cli("drill", "notes", "--out", "local")
    dask = cli("drill", "notes", "--out", "remote", "--executor", "dask", "--scheduler", scheduler)
    assert dask.exit_code == local.exit_code == 1
    failures = sorted(line for line in dask.stderr.splitlines() if line.startswith("failed: "))
    assert failures == sorted(line.replace("local", "remote") for line in local.stderr.splitlines()
                              if line.startswith("failed: "))
    assert failures == ["failed: notes/a.txt: No such file or directory: notes/a.txt.missing",
                        "failed: notes/sub/b.txt: File exists: remote/sub"]


def test_a_step_missing_on_the_workers_stops_the_run_with_one_error(cli, scheduler, tmp_path, monkeypatch):
    site = tmp_path / "client-only"
    write_plugin_package(site, "lonely_plugin", LONELY_PLUGIN)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("BATCHPROC_LOAD_PLUGINS", os.environ["BATCHPROC_LOAD_PLUGINS"] + ",lonely_plugin")
    write_notes(tmp_path / "notes", {"a.txt": "a", "b.txt": "b"})
    try:
        result = cli("lonely", tmp_path / "notes", "--executor", "dask", "--scheduler", scheduler)
    finally:
        sys.modules.pop("lonely_plugin", None)
    assert result.exit_code == 4
    assert result.stderr.startswith("Error: Dask worker tcp://127.0.0.1:")
    assert "cannot start the step: step 'lonely' is not installed in this worker" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_malformed_scheduler_address_is_a_usage_error(cli, tmp_path):
    pytest.importorskip("distributed", reason="Dask is not installed: pip install 'batchproc[dask]'")
    write_notes(tmp_path / "notes", {"a.txt": "a"})
    result = cli("resize", tmp_path / "notes", "--executor", "dask", "--scheduler", "tcp://127.0.0.1")
    assert result.exit_code == 2
    assert result.stderr == "Error: --scheduler tcp://127.0.0.1: missing port number in address '127.0.0.1'\n"


def test_without_a_scheduler_batchproc_starts_its_own_cluster(batchproc_process, scheduler, tmp_path):
    notes = write_notes(tmp_path / "notes", {f"n{i}.txt": f"note {i}" for i in range(10)})
    result = batchproc_process("drill", notes, "--executor", "dask", "--jobs", "2", "--json")
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 10 and {r["status"] for r in records} == {"ok"}
    assert not {r["pid"] for r in records} & worker_pids(scheduler)  # not the module's cluster


def test_ctrl_c_finishes_the_files_begun_and_skips_the_rest(scheduler, tmp_path):
    notes = write_notes(tmp_path / "notes", {f"n{i:02d}.txt": "sleep 0.2" for i in range(40)})
    log = tmp_path / "log"
    run = subprocess.Popen([sys.executable, "-m", "batchproc", "drill", notes, "--log", log,
                            "--executor", "dask", "--scheduler", scheduler],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not (log.exists() and read_log(log)) and time.monotonic() < deadline:
        time.sleep(0.05)
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=30)
    assert run.returncode == 130
    records = read_log(log)
    assert sorted(r["input"] for r in records) == sorted(str(p) for p in notes.iterdir())
    done = [r for r in records if r["status"] == "ok"]
    assert done and all((tmp_path / "notes_drilled" / Path(r["input"]).name).exists() for r in done)
    not_started = {(r["status"], r["error"]) for r in records if r not in done}
    assert not_started == {("skipped", "not started (interrupted)")}
    assert stderr.rstrip().endswith("interrupted")
