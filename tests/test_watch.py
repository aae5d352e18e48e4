"""--watch: files are taken as they arrive, each once it is complete, under the rules of a
normal run. Real files, real events (inotify, or polling), batchproc as a real process."""

import io
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from conftest import file_records
from images import photo, write_tree
from watching import age

pytest.importorskip("watchdog")

SETTLE = "0.3"


def jpeg_bytes(width=320, height=240, seed=0) -> bytes:
    buffer = io.BytesIO()
    photo(width, height, seed).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def log_records(path):
    return file_records(path)


class SlowCopy(threading.Thread):
    """Copies `data` to `path` a little at a time until told to finish."""

    def __init__(self, path, data):
        super().__init__(daemon=True)
        self.path, self.data, self.finish = path, data, threading.Event()
        self.handle = open(path, "wb")
        self.handle.write(data[:100])
        self.handle.flush()

    def run(self):
        written = 100
        while not self.finish.wait(0.2):
            self.handle.write(self.data[written:written + 100])
            self.handle.flush()
            written += 100
        self.handle.write(self.data[written:])
        self.handle.close()


def test_files_present_at_start_are_done_first_and_one_still_being_written_waits(watch, tmp_path):
    for path in write_tree(tmp_path / "in", {"a.jpg": (200, 150), "sub/b.png": (120, 120)}):
        age(path)
    copy = SlowCopy(tmp_path / "in/copying.jpg", jpeg_bytes(400, 300))
    copy.start()  # still being copied when batchproc starts, and after
    run = watch("resize", "in", "--watch", "--settle", "1", "--max", "100", "--jobs", "2", "--json")
    done = {run.record()["input"] for _ in range(2)}
    assert done == {"in/a.jpg", "in/sub/b.png"}
    run.lines("ok: ", 2)
    assert run.quiet_for(1.5) == []  # the half-written file is left alone while it is written to
    copy.finish.set()
    record = run.record()
    assert record["input"] == "in/copying.jpg" and record["status"] == "ok"
    assert (record["width"], record["height"]) == (100, 75)
    assert run.stop() == 130
    assert len(run.records) == 3 and "resize: 3 ok" in run.errors[-1]


def test_a_burst_of_500_files(watch, tmp_path):
    (tmp_path / "in").mkdir()
    run = watch("compress", "in", "--watch", "--settle", SETTLE, "--log", "log.jsonl")
    for index in range(500):
        (tmp_path / f"in/{index:03}.txt").write_text(f"line {index}\n" * 20)
    run.lines("ok: ", 500)
    assert run.stop() == 130
    records = log_records(tmp_path / "log.jsonl")
    assert sorted(r["input"] for r in records) == [f"in/{index:03}.txt" for index in range(500)]
    assert {r["status"] for r in records} == {"ok"}
    assert len(list((tmp_path / "in_compressed").iterdir())) == 500


SLOW_WRITER = """
import sys, time
data = open(sys.argv[1], "rb").read()
pieces = 8
size = len(data) // pieces + 1
for index in range(pieces):
    with open(sys.argv[2], "ab") as handle:  # open, append, close: a close-write event each time
        handle.write(data[index * size:(index + 1) * size])
    print(time.time(), flush=True)
    time.sleep(0.4)
"""


def test_a_slow_writer_is_taken_once_and_only_after_its_last_piece(watch, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "whole.jpg").write_bytes(jpeg_bytes(800, 600, seed=3))
    run = watch("resize", "in", "--watch", "--settle", "1", "--max", "200", "--json", "--log", "log.jsonl")
    writer = subprocess.run([sys.executable, "-c", SLOW_WRITER, tmp_path / "whole.jpg", tmp_path / "in/slow.jpg"],
                            capture_output=True, text=True, check=True)
    last_piece = float(writer.stdout.split()[-1])
    record = run.record()
    seen_at = time.time()
    assert record["status"] == "ok" and record["input"] == "in/slow.jpg"
    assert seen_at - last_piece > 1.0  # settled: a second without change after the last piece
    assert seen_at - last_piece < 1.0 + 4.0  # and not much later (the target is settle + 0.5 s)
    run.line("ok: in/slow.jpg")
    assert run.quiet_for(1.5) == []
    assert run.stop() == 130
    assert len(log_records(tmp_path / "log.jsonl")) == 1  # exactly once
    with Image.open(tmp_path / "in_resized/slow.jpg") as image:
        image.load()
        assert image.size == (200, 150)


def test_a_copiers_temporary_name_is_ignored_until_renamed(watch, tmp_path):
    (tmp_path / "in").mkdir()
    run = watch("resize", "in", "--watch", "--settle", SETTLE, "--json")
    temporaries = {"a.jpg.part": "a.jpg", "b.jpg.crdownload": "b.jpg", "c.jpg.tmp": "c.jpg", "~$d.jpg": "d.jpg"}
    for index, temporary in enumerate(temporaries):
        (tmp_path / "in" / temporary).write_bytes(jpeg_bytes(seed=index))
    assert run.quiet_for(1.0) == []  # settled, but under a temporary name: not taken
    for temporary, name in temporaries.items():
        os.rename(tmp_path / "in" / temporary, tmp_path / "in" / name)
    done = sorted((record["input"], record["status"]) for record in (run.record() for _ in temporaries))
    assert done == [(f"in/{name}", "ok") for name in sorted(temporaries.values())]
    assert run.stop() == 130
    assert len(run.records) == 4


def test_a_bad_file_fails_alone_and_the_watch_goes_on(watch, tmp_path):
    (tmp_path / "in").mkdir()
    run = watch("resize", "in", "--watch", "--settle", SETTLE, "--max", "50", "--log", "log.jsonl",
                "--max-failures", "1")
    for index in range(5):
        (tmp_path / f"in/{index}.jpg").write_bytes(b"junk" if index == 2 else jpeg_bytes(seed=index))
    assert run.line("failed: ") == "failed: in/2.jpg: not a readable image (expected JPEG, PNG, WebP, GIF, TIFF or BMP)"
    time.sleep(1.0)
    (tmp_path / "in/later.jpg").write_bytes(jpeg_bytes(seed=9))  # a new batch: a new budget
    run.line("ok: in/later.jpg")
    assert run.stop() == 130  # a failure never ends a watch; the signal does
    outcome = {Path(r["input"]).name: r["status"] for r in log_records(tmp_path / "log.jsonl")}
    assert outcome["2.jpg"] == "failed" and outcome["later.jpg"] == "ok"


def test_a_new_nested_folder_is_watched_and_rescanned(watch, tmp_path):
    (tmp_path / "in").mkdir()
    run = watch("resize", "in", "--watch", "--settle", SETTLE, "--max", "40", "--json")
    deep = tmp_path / "in/2026/03/scans"
    deep.mkdir(parents=True)
    (deep / "a.jpg").write_bytes(jpeg_bytes(seed=1))  # at once: maybe before its folder is watched
    prepared = tmp_path / "batch"  # a whole tree moved in: no file event for what is inside
    write_tree(prepared, {"x.jpg": (90, 60), "y/z.png": (60, 90)})
    os.rename(prepared, tmp_path / "in/batch")
    done = {run.record()["input"] for _ in range(3)}
    assert done == {"in/2026/03/scans/a.jpg", "in/batch/x.jpg", "in/batch/y/z.png"}
    (deep / "later.jpg").write_bytes(jpeg_bytes(seed=2))
    assert run.record()["input"] == "in/2026/03/scans/later.jpg"
    assert run.stop() == 130
    for relpath in ("2026/03/scans/a.jpg", "2026/03/scans/later.jpg", "batch/x.jpg", "batch/y/z.png"):
        assert (tmp_path / "in_resized" / relpath).is_file()  # the tree is mirrored as in a normal run


def test_polling_and_a_name_that_is_not_utf8(watch, tmp_path):
    (tmp_path / "in").mkdir()
    run = watch("resize", "in", "--watch", "--poll", "0.2", "--settle", SETTLE, "--max", "40", "--json")
    assert "polling every 0.2 s" in run.errors[-1]
    name = b"caf\xe9 \xff.jpg"
    with open(os.path.join(os.fsencode(tmp_path / "in"), name), "wb") as handle:
        handle.write(jpeg_bytes())
    record = run.record()
    assert record["status"] == "ok" and record["input"] == "in/caf\udce9 \udcff.jpg"
    assert run.stop() == 130
    assert os.listdir(os.fsencode(tmp_path / "in_resized")) == [name]


def test_a_file_changed_while_it_is_processed_is_taken_again_once_settled(watch, hazard, tmp_path):
    (tmp_path / "in").mkdir()
    run = watch("hazard", "in", "--watch", "--settle", SETTLE, "--json", "--jobs", "1")
    (tmp_path / "in/warm.txt").write_text("fine")
    assert run.record()["status"] == "ok"  # the worker is up
    (tmp_path / "in/a.txt").write_text("sleep 2")
    time.sleep(float(SETTLE) + 0.8)  # settled, taken, and being processed
    with open(tmp_path / "in/a.txt", "a") as handle:
        handle.write(" ")
    first, second = run.record(), run.record()
    assert first["status"] == "skipped" and first["error"] in (
        "input changed while it was being processed: taken again once it settles",
        "input changed since it settled: taken again once it settles")  # on a machine this slow
    assert (second["status"], second["error"], second["bytes_in"]) == ("ok", None, len("sleep 2 "))
    assert run.stop() == 130


def test_only_failures_with_quiet_and_nothing_for_up_to_date_files(watch, tmp_path):
    write_tree(tmp_path / "in", {"a.jpg": (90, 60)})
    age(tmp_path / "in/a.jpg")
    run = watch("resize", "in", "--watch", "--settle", SETTLE, "--quiet", ready=None)
    (tmp_path / "in/b.jpg").write_bytes(b"junk")
    run.line("failed: in/b.jpg")
    os.utime(tmp_path / "in/a.jpg")  # touched, not changed: still its output is older: redone
    assert run.stop() == 130
    assert [line for line in run.errors if not line.startswith("failed:")] == [
        run.errors[-1]]  # the summary, because something failed
