"""--watch and deleted inputs: a `deleted` record each; outputs kept, or with --mirror-deletes
removed (only the ones batchproc made, never an input)."""

import os
import shutil

import pytest

from images import write_tree
from watching import age

pytest.importorskip("watchdog")

SETTLE = "0.3"


def start(watch, tmp_path, *extra):
    for path in write_tree(tmp_path / "in", {"a.jpg": (90, 60), "keep.jpg": (90, 60),
                                             "sub/b.jpg": (90, 60), "sub/deeper/c.jpg": (90, 60)}):
        age(path)
    (tmp_path / "in/notes.txt").write_text("not an image")
    run = watch("resize", "in", "--watch", "--settle", SETTLE, "--max", "40", "--json", *extra)
    assert {run.record()["status"] for _ in range(5)} == {"ok", "skipped"}
    return run


def test_a_deleted_input_is_a_record_and_its_output_stays(watch, tmp_path):
    run = start(watch, tmp_path)
    os.unlink(tmp_path / "in/a.jpg")
    os.unlink(tmp_path / "in/notes.txt")  # never the step's: nothing to say
    record = run.record()
    assert (record["status"], record["input"], record["output"]) == ("deleted", "in/a.jpg", "in_resized/a.jpg")
    run.line("deleted: in/a.jpg")
    assert run.stop() == 130
    assert (tmp_path / "in_resized/a.jpg").exists()
    assert len(run.records) == 6 and "1 deleted" in run.errors[-1]


def test_mirror_deletes_removes_outputs_and_folders_moved_away(watch, tmp_path):
    run = start(watch, tmp_path, "--mirror-deletes")
    os.unlink(tmp_path / "in/a.jpg")
    assert run.record()["status"] == "deleted"
    shutil.move(tmp_path / "in/sub", tmp_path / "archived")  # moved out: one event, for the folder
    gone = {run.record()["input"] for _ in range(2)}
    assert gone == {"in/sub/b.jpg", "in/sub/deeper/c.jpg"}
    assert run.stop() == 130
    assert sorted(os.listdir(tmp_path / "in_resized")) == ["keep.jpg"]  # emptied folders go too
    assert (tmp_path / "archived/deeper/c.jpg").exists()  # inputs are never touched


def test_a_file_created_and_deleted_before_it_settled_leaves_no_trace(watch, tmp_path):
    (tmp_path / "in").mkdir()
    run = watch("resize", "in", "--watch", "--settle", "1", "--json")
    (tmp_path / "in/brief.jpg").write_bytes(b"x")
    os.unlink(tmp_path / "in/brief.jpg")
    assert run.quiet_for(1.6) == []
    assert run.stop() == 130
    assert run.records == []


def test_an_input_its_own_step_removes_is_not_a_deletion(watch, tmp_path):
    (tmp_path / "in").mkdir()
    run = watch("compress", "in", "--in-place", "--no-keep", "--watch", "--settle", SETTLE,
                "--mirror-deletes", "--json")
    (tmp_path / "in/a.log").write_text("line\n" * 100)
    record = run.record()
    assert (record["status"], record["output"]) == ("ok", "in/a.log.gz")
    run.line("ok: in/a.log -> in/a.log.gz")
    assert run.quiet_for(1.0 + float(SETTLE)) == []  # its output arriving is not a new input
    assert run.stop() == 130
    assert (tmp_path / "in/a.log.gz").exists()  # --mirror-deletes did not take it for a deletion
    assert [r["status"] for r in run.records if r["input"] == "in/a.log"] == ["ok"]
