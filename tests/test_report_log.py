"""`batchproc report LOG [PAGE] [--run ID]`: a run's page made afterwards from its --log."""

from __future__ import annotations

import json
import textwrap

from conftest import write_files
from images import write_tree
from report_pages import Page


def two_runs(cli, tmp_path):
    write_tree(tmp_path / "in", {"a.jpg": (800, 600), "sub/b.jpg": (600, 800), "sub/c.png": (400, 400)})
    (tmp_path / "in/bad.jpg").write_bytes(b"not a picture")
    log = tmp_path / "nightly.jsonl"
    first = cli("resize", tmp_path / "in", "--out", tmp_path / "out", "--max", 200, "--log", log, "--jobs", 1)
    write_tree(tmp_path / "in", {"d.jpg": (640, 480)}, seed=7)
    second = cli("resize", tmp_path / "in", "--out", tmp_path / "out", "--max", 200, "--log", log, "--jobs", 1)
    assert first.exit_code == second.exit_code == 1
    runs = [json.loads(line)["run"] for line in log.read_text().splitlines() if '"record": "run"' in line]
    return log, runs


def test_the_last_run_by_default_any_run_by_its_id(cli, tmp_path):
    log, (first, second) = two_runs(cli, tmp_path)
    result = cli("report", log)
    assert result.exit_code == 0, result
    assert result.stderr == f"wrote {tmp_path / 'nightly.html'} (run {second})\n"
    last = Page(tmp_path / "nightly.html")
    assert "resize: 1 ok, 3 skipped (3 up to date), 1 failed" in last.text and second in last.text
    assert len(last.pictures()) == 2  # d.jpg, before and after
    assert cli("report", log, tmp_path / "first.html", "--run", first[:-2]).exit_code == 0
    earlier = Page(tmp_path / "first.html")
    assert "resize: 3 ok, 0 skipped, 1 failed" in earlier.text and first in earlier.text
    assert "Thumbnails read from the files as they are now" in earlier.text
    assert len(earlier.pictures()) == 6 and earlier.external_urls() == []
    assert "not a readable image" in earlier.text and str(tmp_path / "in/bad.jpg") in earlier.text
    listed = cli("report", log, "--list")
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == [first, second]
    assert listed.stdout.splitlines()[0].endswith("\tresize\t4 files")


def test_the_contact_sheet_shows_what_still_exists(cli, tmp_path):
    log, (first, _) = two_runs(cli, tmp_path)
    (tmp_path / "out/sub/b.jpg").unlink()
    (tmp_path / "in/sub/c.png").unlink()
    (tmp_path / "in/a.jpg").write_bytes(b"replaced by something that is no picture")
    assert cli("report", log, tmp_path / "page.html", "--run", first).exit_code == 0
    page = Page(tmp_path / "page.html")
    assert page.text.count("the output is no longer there") == 1
    assert page.text.count("the input is no longer there") == 1
    assert page.text.count("no thumbnail of the input") == 2  # a.jpg as it is now, and bad.jpg
    assert len(page.pictures()) == 6 - 3
    assert all(path.exists() for path in page.linked_files() if "out/sub/b.jpg" not in str(path)
               and "in/sub/c.png" not in str(path))


def test_the_jobs_of_a_job_file_are_one_run_a_section_each(cli, tmp_path):
    write_tree(tmp_path / "photos", {"a.jpg": (400, 300)})
    write_files(tmp_path / "texts", {"x.txt": "x", "y.txt": "y"})
    (tmp_path / "jobs.toml").write_text(textwrap.dedent("""
        [defaults]
        jobs = 1
        log = "jobs.jsonl"
        [jobs.web]
        inputs = ["photos"]
        step = "resize"
        [jobs.sums]
        inputs = ["texts"]
        step = "checksum"
    """))
    assert cli("run", tmp_path / "jobs.toml").exit_code == 0
    assert cli("report", tmp_path / "jobs.jsonl", tmp_path / "jobs.html").exit_code == 0
    page = Page(tmp_path / "jobs.html")
    assert "web (resize): 1 ok" in page.text and "sums (checksum): 2 ok" in page.text
    assert page.html.count("Contact sheet") == 1 and len(page.pictures()) == 2
    assert "batchproc run " in page.text


def test_a_page_can_go_to_stdout(cli, tmp_path):
    write_files(tmp_path / "texts", {"x.txt": "x"})
    cli("checksum", tmp_path / "texts", "--log", tmp_path / "sums.jsonl", "--jobs", 1)
    result = cli("report", tmp_path / "sums.jsonl", "-")
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout.startswith("<!DOCTYPE html>") and "checksum: 1 ok" in result.stdout
    assert "Contact sheet" not in result.stdout


def test_a_run_without_an_end_and_a_log_without_headers(cli, tmp_path):
    log, _ = two_runs(cli, tmp_path)
    lines = log.read_text().splitlines()
    log.write_text("\n".join(lines[:-1]) + "\n")  # killed: no end record
    assert cli("report", log, tmp_path / "killed.html").exit_code == 0
    assert "elapsed time unknown" in Page(tmp_path / "killed.html").text
    old = tmp_path / "old.jsonl"  # written before runs had headers
    old.write_text("".join(json.dumps({k: v for k, v in json.loads(line).items() if k not in ("run", "job")}) + "\n"
                           for line in lines if '"status"' in line))
    assert cli("report", old, tmp_path / "old.html").exit_code == 0
    page = Page(tmp_path / "old.html")
    assert "run without a header: 4 ok, 3 skipped (3 up to date), 2 failed" in page.text
    assert "Contact sheet" in page.text


def test_what_cannot_be_done_is_one_error_line(cli, tmp_path):
    missing = cli("report", tmp_path / "nope.jsonl")
    assert missing.exit_code == 2 and missing.stderr == f"Error: no log file {tmp_path / 'nope.jsonl'}\n"
    (tmp_path / "empty.jsonl").write_text("")
    empty = cli("report", tmp_path / "empty.jsonl")
    assert empty.exit_code == 2 and "holds no run" in empty.stderr
    log, _ = two_runs(cli, tmp_path)
    unknown = cli("report", log, "--run", "19990101")
    assert unknown.exit_code == 2 and "has no run 19990101" in unknown.stderr
    assert not (tmp_path / "nightly.html").exists()


def test_lines_workers_render_in_bulk_carry_their_run(cli, tmp_path):
    """Small files that go plainly reach the log as lines their worker rendered: they carry the
    run's id like every other record, so `batchproc report` counts each run's own files."""
    write_files(tmp_path / "in", {f"f{i}.txt": "x" * (i + 1) for i in range(300)})
    log = tmp_path / "sums.jsonl"
    for _ in range(2):
        (tmp_path / "in/new.txt").write_text(str(_))
        assert cli("checksum", tmp_path / "in", "--log", log, "--jobs", 2).exit_code == 0
    records = [json.loads(line) for line in log.read_text().splitlines()]
    headers = [record["run"] for record in records if record.get("record") == "run"]
    assert len(headers) == 2 and len(set(headers)) == 2
    files = [record for record in records if "status" in record]
    assert len(files) == 602 and all(record["run"] in headers for record in files)
    assert sum(record["run"] == headers[0] for record in files) == 301
    page = cli("report", log, "-")
    assert page.exit_code == 0 and "checksum: 301 ok" in page.stdout
