"""`batchproc run FILE --watch`: every job's inputs are watched; a change runs the jobs it
touches, one at a time, in file order."""

import textwrap

import pytest

from conftest import file_records
from images import write_tree
from watching import age

pytest.importorskip("watchdog")

JOBS = """
[defaults]
jobs = 1
log = "jobs.jsonl"

[jobs.thumbs]
inputs = ["photos"]
out = "web/thumbs"
step = "resize"
options = { max = 32 }

[jobs.large]
inputs = ["photos/holiday"]
out = "web/large"
step = "resize"
options = { max = 64 }
"""


def log_records(path):
    return file_records(path)


def test_a_job_file_watched(watch, cli, tmp_path):
    for path in write_tree(tmp_path / "photos", {"a.jpg": (120, 90), "holiday/b.jpg": (120, 90)}):
        age(path)
    (tmp_path / "jobs.toml").write_text(JOBS)
    run = watch("run", "jobs.toml", "--watch", "--settle", "0.3")
    run.lines("watching", 1)
    run.lines("ok: ", 3)  # the first passes: thumbs a.jpg, b.jpg; large b.jpg
    write_tree(tmp_path / "photos", {"c.jpg": (120, 90), "holiday/d.jpg": (120, 90), "holiday/e.jpg": (120, 90)},
               seed=5)
    said = run.lines("ok: ", 5)
    cron = cli("run", tmp_path / "jobs.toml")  # the locks are held while watching
    assert cron.exit_code == 75
    assert run.stop() == 130
    jobs = [line.split(":", 1)[0] for line in said]
    # One batch: thumbs does all of its share, then large (one job at a time, in file order).
    assert jobs == ["thumbs (resize)"] * 3 + ["large (resize)"] * 2
    outputs = sorted(str(p.relative_to(tmp_path / "web")) for p in (tmp_path / "web").rglob("*.jpg"))
    assert outputs == ["large/b.jpg", "large/d.jpg", "large/e.jpg", "thumbs/a.jpg", "thumbs/c.jpg",
                       "thumbs/holiday/b.jpg", "thumbs/holiday/d.jpg", "thumbs/holiday/e.jpg"]
    assert len(log_records(tmp_path / "jobs.jsonl")) == 8
    summaries = [line for line in run.errors if "; interrupted" in line]
    assert sorted(summaries)[0].startswith("large (resize): 3 ok") and sorted(summaries)[1].startswith(
        "thumbs (resize): 5 ok")


def test_watch_keys_belong_on_the_command_line(cli, tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "jobs.toml").write_text(textwrap.dedent("""
        [jobs.x]
        inputs = ["photos"]
        step = "resize"
        watch = true
    """))
    result = cli("run", tmp_path / "jobs.toml")
    assert result.exit_code == 2
    assert "job x: watch belongs on the command line" in result.stderr
    assert cli("run", tmp_path / "jobs.toml", "--settle", "1").exit_code == 2
