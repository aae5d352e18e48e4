"""The engine end to end: result records, the log, chunks, incremental runs, outputs, start methods."""

import hashlib
import json
import multiprocessing
import os
import shutil
import threading
from pathlib import Path

import pytest
from PIL import Image

from batchproc.runlog import RunLog
from batchproc.runner import chunk_size
from conftest import file_records
from images import photo, write_tree

SAMPLE_DATA = Path(__file__).parent.parent / "sample_data"


def read_log(path):
    return file_records(path)


def tree_digest(root):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(root).rglob("*")) if p.is_file()}


@pytest.mark.parametrize("found, jobs, max_chunk, expected", [
    (0, 2, 4, 1), (7, 2, 4, 1), (16, 2, 4, 2), (1000, 2, 4, 4), (1000, 2, 256, 125),
    (10**6, 6, 256, 256),
])
def test_chunk_size_grows_with_the_walk(found, jobs, max_chunk, expected):
    assert chunk_size(found, jobs, max_chunk) == expected


def test_one_record_per_file_with_every_field(cli, tmp_path):
    write_tree(tmp_path / "in", {"a.jpg": (400, 300), "sub/b.png": (300, 300)})
    (tmp_path / "in/notes.txt").write_text("hi")
    (tmp_path / "in/bad.jpg").write_bytes(b"not a jpeg")
    result = cli("resize", tmp_path / "in", "--out", tmp_path / "out", "--width", 100,
                 "--log", tmp_path / "run.jsonl", "--jobs", 2)
    assert result.exit_code == 1
    records = {Path(r["input"]).name: r for r in read_log(tmp_path / "run.jsonl")}
    assert set(records) == {"a.jpg", "b.png", "notes.txt", "bad.jpg"}
    ok = records["a.jpg"]
    assert ok["status"] == "ok" and ok["output"] == str(tmp_path / "out/a.jpg")
    assert ok["bytes_in"] == (tmp_path / "in/a.jpg").stat().st_size
    assert ok["bytes_out"] == (tmp_path / "out/a.jpg").stat().st_size
    assert ok["ms"] > 0 and ok["error"] is None and (ok["width"], ok["height"]) == (100, 75)
    assert records["notes.txt"]["status"] == "skipped"
    assert records["notes.txt"]["error"] == "not an image (.txt)"
    assert records["bad.jpg"]["status"] == "failed" and "not a readable image" in records["bad.jpg"]["error"]
    assert result.stdout == ""
    assert "resize: 2 ok, 1 skipped (1 not an image), 1 failed" in result.stderr


def test_a_bad_file_never_costs_its_chunk_mates(cli, tmp_path):
    names = [f"{i:02}.jpg" for i in range(12)]
    write_tree(tmp_path / "in", {name: (64, 48) for name in names})
    (tmp_path / "in/05.jpg").write_bytes(b"broken")
    result = cli("resize", tmp_path / "in", "--out", tmp_path / "out", "--width", 32, "--jobs", 1)
    assert result.exit_code == 1
    assert sorted(p.name for p in (tmp_path / "out").glob("*.jpg")) == [n for n in names if n != "05.jpg"]


@pytest.mark.filterwarnings("ignore:This process:DeprecationWarning")  # forks on purpose
def test_log_lines_are_whole_under_concurrent_writers(tmp_path):
    path = tmp_path / "log.jsonl"

    def write_many(tag):
        log = RunLog(str(path))
        for i in range(300):
            log.write({"writer": tag, "i": i, "padding": "x" * (i * 37 % 5000)})
        log.close()

    threads = [threading.Thread(target=write_many, args=(f"t{n}",)) for n in range(4)]
    processes = [multiprocessing.get_context("fork").Process(target=write_many, args=(f"p{n}",))
                 for n in range(3)]
    for worker in threads + processes:
        worker.start()
    for worker in threads + processes:
        worker.join()
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(records) == 7 * 300
    for tag in ["t0", "t1", "t2", "t3", "p0", "p1", "p2"]:
        assert [r["i"] for r in records if r["writer"] == tag] == list(range(300))


def test_log_is_appended_across_runs(cli, tmp_path):
    write_tree(tmp_path / "in", {"a.jpg": (64, 48)})
    for _ in range(2):
        cli("resize", tmp_path / "in", "--out", tmp_path / "out", "--log", tmp_path / "log", "--jobs", 1)
    assert [r["status"] for r in read_log(tmp_path / "log")] == ["ok", "skipped"]


def test_each_run_in_the_log_opens_with_a_header_and_ends_with_a_record(cli, tmp_path):
    write_tree(tmp_path / "in", {"a.jpg": (64, 48)})
    (tmp_path / "in/bad.jpg").write_bytes(b"not a jpeg")
    for _ in range(2):
        cli("resize", tmp_path / "in", "--out", tmp_path / "out", "--log", tmp_path / "log", "--jobs", 1)
    lines = [json.loads(line) for line in (tmp_path / "log").read_text().splitlines()]
    assert [line.get("record", "file") for line in lines] == ["run", "file", "file", "end"] * 2
    first, second = lines[0], lines[4]
    assert first["run"] != second["run"] and all(line["run"] == first["run"] for line in lines[:4])
    assert first["command"] == ["batchproc", "resize", str(tmp_path / "in"), "--out", str(tmp_path / "out"),
                                "--log", str(tmp_path / "log"), "--jobs", "1"]
    assert (first["step"], first["jobs"], first["executor"], first["cwd"]) == ("resize", 1, "local", os.getcwd())
    assert first["settings"]["max_pixels"] == 200_000_000 and first["images"] is True
    assert "Pillow" in first["engine"] and first["version"] and first["started"]
    end = lines[3]
    assert end["counts"] == {"ok": 1, "failed": 1} and end["stopped"] is None and end["elapsed"] > 0
    failed = [line for line in lines if line.get("status") == "failed"]  # jq 'select(.status=="failed")'
    assert len(failed) == 2 and all(line["input"].endswith("bad.jpg") for line in failed)


def test_sample_data_run_writes_a_new_folder_and_touches_nothing(cli, tmp_path):
    shutil.copytree(SAMPLE_DATA, tmp_path / "sample_data")
    before = tree_digest(tmp_path / "sample_data")
    result = cli("resize", tmp_path / "sample_data", "--jobs", 2)
    assert result.exit_code == 0, result
    assert tree_digest(tmp_path / "sample_data") == before
    out = tmp_path / "sample_data_resized"
    for path in (tmp_path / "sample_data").rglob("*"):
        if path.suffix.lower() in (".jpg", ".png", ".gif"):
            with Image.open(path) as source, Image.open(out / path.relative_to(tmp_path / "sample_data")) as made:
                assert max(made.size) == min(1600, max(source.size))
    second = cli("resize", tmp_path / "sample_data", "--jobs", 2)
    assert second.exit_code == 0 and " 0 ok" in second.stderr and "up to date" in second.stderr


def test_incremental_runs_redo_only_what_changed(cli, tmp_path):
    write_tree(tmp_path / "in", {"a.jpg": (200, 100), "b.jpg": (200, 100), "c.jpg": (200, 100)})
    run = lambda *extra: cli("resize", tmp_path / "in", "--out", tmp_path / "out", "--width", 50,
                             "--jobs", 1, "--log", tmp_path / "log", *extra)
    assert run().exit_code == 0
    made = (tmp_path / "out/a.jpg").stat().st_mtime_ns
    photo(200, 100, seed=9).save(tmp_path / "in/b.jpg")  # changed input
    os.utime(tmp_path / "in/b.jpg", ns=(made + 10**9, made + 10**9))
    (tmp_path / "out/c.jpg").unlink()  # missing output
    log_lines = len(read_log(tmp_path / "log"))
    assert run().exit_code == 0
    second = {Path(r["input"]).name: r["status"] for r in read_log(tmp_path / "log")[log_lines:]}
    assert second == {"a.jpg": "skipped", "b.jpg": "ok", "c.jpg": "ok"}
    assert (tmp_path / "out/a.jpg").stat().st_mtime_ns == made
    assert "3 ok" in run("--width", 60).stderr  # other settings: everything is redone
    assert "3 ok" in run("--width", 60, "--force").stderr


def test_in_place_replaces_inputs_keeps_their_mode_and_is_idempotent(cli, tmp_path):
    write_tree(tmp_path / "in", {"a.jpg": (400, 200)})
    os.chmod(tmp_path / "in/a.jpg", 0o600)
    assert cli("resize", tmp_path / "in", "--in-place", "--width", 100, "--jobs", 1).exit_code == 0
    with Image.open(tmp_path / "in/a.jpg") as image:
        assert image.size == (100, 50)
    assert (tmp_path / "in/a.jpg").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == ["a.jpg"]
    again = cli("resize", tmp_path / "in", "--in-place", "--width", 100, "--jobs", 1)
    assert "1 up to date" in again.stderr


def test_output_folder_inside_the_input_is_not_walked(cli, tmp_path):
    write_tree(tmp_path / "in", {"a.jpg": (200, 100)})
    for _ in range(2):
        result = cli("resize", tmp_path / "in", "--out", tmp_path / "in/small", "--width", 50, "--jobs", 1)
        assert result.exit_code == 0
    assert not (tmp_path / "in/small/small").exists()


def test_out_equal_to_the_input_is_refused(cli, tmp_path):
    write_tree(tmp_path / "in", {"a.jpg": (200, 100)})
    result = cli("resize", tmp_path / "in", "--out", tmp_path / "in", "--jobs", 1)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --out") and "--in-place" in result.stderr


def test_two_inputs_bound_for_one_output_are_both_refused(cli, tmp_path):
    write_tree(tmp_path / "in", {"a.png": (200, 100), "a.jpg": (200, 100), "b.jpg": (200, 100)})
    result = cli("resize", tmp_path / "in", "--out", tmp_path / "out", "--format", "webp", "--jobs", 1)
    assert result.exit_code == 1
    assert "a.jpg and a.png would both be written to" in result.stderr
    assert sorted(p.name for p in (tmp_path / "out").glob("*.webp")) == ["b.webp"]


def test_a_failed_file_leaves_no_output_and_no_temporary(cli, tmp_path):
    write_tree(tmp_path / "in", {"a.jpg": (200, 100)})
    assert cli("resize", tmp_path / "in", "--out", tmp_path / "out", "--jobs", 1).exit_code == 0
    old = (tmp_path / "out/a.jpg").read_bytes()
    (tmp_path / "in/a.jpg").write_bytes(b"corrupted later")
    assert cli("resize", tmp_path / "in", "--out", tmp_path / "out", "--jobs", 1).exit_code == 1
    assert (tmp_path / "out/a.jpg").read_bytes() == old  # never a half-written replacement
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.jpg"]


@pytest.mark.filterwarnings("ignore:This process:DeprecationWarning")  # forks on purpose
@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_start_methods_give_identical_results(cli, tmp_path, method):
    write_tree(tmp_path / "in", {"a.jpg": (300, 200), "b.png": (300, 200)})
    reference = cli("resize", tmp_path / "in", "--out", tmp_path / "fork", "--size", "90x90^",
                    "--quality", 70, "--jobs", 2, "--start-method", "fork")
    result = cli("resize", tmp_path / "in", "--out", tmp_path / method, "--size", "90x90^",
                 "--quality", 70, "--jobs", 2, "--start-method", method)
    assert reference.exit_code == result.exit_code == 0, result
    assert tree_digest(tmp_path / method) == tree_digest(tmp_path / "fork")
    with Image.open(tmp_path / method / "a.jpg") as image:
        assert image.size == (90, 90)  # settings reached the workers: cover-cropped, not defaults


def test_files_that_go_ok_in_bulk_each_keep_their_line_log_record_and_state(cli, tmp_path):
    # Plain successes travel from the workers in columns (batchproc.result_batch), rendered
    # there: every file must still get its manifest line, its log record and its state row.
    names = {f"d{i % 3}/f{i:03}.txt": os.urandom(100 + i) for i in range(300)}
    for name, data in names.items():
        (tmp_path / "in" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "in" / name).write_bytes(data)
    result = cli("checksum", tmp_path / "in", "--log", tmp_path / "run.jsonl", "--jobs", 2)
    assert result.exit_code == 0
    digests = {str(tmp_path / "in" / name): hashlib.sha256(data).hexdigest() for name, data in names.items()}
    assert sorted(result.stdout.splitlines()) == sorted(f"{digest}  {path}" for path, digest in digests.items())
    records = read_log(tmp_path / "run.jsonl")
    assert sorted(r["input"] for r in records) == sorted(digests)
    assert all(r["status"] == "ok" and r["digest"] == digests[r["input"]] and r["bytes_in"] > 0
               for r in records)

    write_tree(tmp_path / "imgs", {f"{i:02}.png": (16, 16) for i in range(40)})
    first = cli("resize", tmp_path / "imgs", "--out", tmp_path / "out", "--width", 8, "--json", "--jobs", 2)
    assert first.exit_code == 0
    assert sorted(json.loads(line)["input"] for line in first.stdout.splitlines()) == \
        sorted(str(tmp_path / "imgs" / f"{i:02}.png") for i in range(40))
    again = cli("resize", tmp_path / "imgs", "--out", tmp_path / "out", "--width", 8, "--json", "--jobs", 2)
    assert {json.loads(line)["error"] for line in again.stdout.splitlines()} == {"up to date"}


def test_the_log_is_reopened_at_its_path(tmp_path):
    header = {"record": "run", "run": "r1"}
    log = RunLog(str(tmp_path / "log.jsonl"), header)
    log.write({"n": 1})
    os.rename(tmp_path / "log.jsonl", tmp_path / "log.jsonl.1")  # logrotate moves it away
    log.write({"n": 2})
    log.reopen()
    log.write({"n": 3})
    log.close()
    lines = lambda path: [json.loads(line) for line in path.read_text().splitlines()]
    assert lines(tmp_path / "log.jsonl.1") == [header, {"n": 1, "run": "r1"}, {"n": 2, "run": "r1"}]
    assert lines(tmp_path / "log.jsonl") == [header, {"n": 3, "run": "r1"}]  # readable on its own


def test_queued_tasks_can_be_taken_back_while_the_walk_goes_on():
    from batchproc.feed import Feed
    from batchproc.task import Task

    feed = Feed()
    feed.put_chunk([Task(1, "a"), Task(2, "b")])
    feed.put_chunk([Task(3, "c")])
    taken = feed.withdraw(lambda task: task.seq <= 2)
    assert [task.seq for task in taken] == [1, 2]
    assert [task.seq for task in feed.take_chunk()] == [3] and not feed.cancelled
    feed.dispose()
