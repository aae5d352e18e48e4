"""--report FILE.html: one self-contained page about a run, made as the results arrive."""

from __future__ import annotations

import textwrap

import pytest
from PIL import Image

from conftest import write_files
from images import marked, photo, save_oriented, write_tree
from report_pages import Page


def mixed_tree(root):
    """Photos (one stored sideways), a PNG with transparency, a file that is no picture at all
    though it says so, and one the step skips."""
    write_tree(root, {"holiday/beach.jpg": (1200, 800), "holiday/town.jpg": (900, 1200),
                      "scans/page.jpg": (640, 480)})
    save_oriented(marked(600, 300), root / "holiday/sideways.jpg", 6)
    logo = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    logo.paste(photo(200, 150).convert("RGBA"), (100, 75))
    logo.save(root / "logo.png")
    (root / "holiday/broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short")
    (root / "notes.txt").write_text("not a picture")


def test_a_run_of_photos_gets_a_page_with_its_counts_failures_and_pictures(cli, tmp_path):
    mixed_tree(tmp_path / "in")
    result = cli("resize", tmp_path / "in", "--out", tmp_path / "out", "--max", 300, "--jobs", 2,
                 "--report", tmp_path / "report.html")
    assert result.exit_code == 1, result
    assert result.stdout == ""
    page = Page(tmp_path / "report.html")
    summary = "resize: 5 ok, 1 skipped (1 not an image), 1 failed"
    assert summary in result.stderr and summary in page.text
    assert "% saved" in page.text and "files/s" in page.text and "2 workers" in page.text
    assert f"batchproc resize {tmp_path / 'in'} --out {tmp_path / 'out'}" in page.text
    # Failures grouped by reason, with their paths; the contact sheet shows the input if it decodes.
    assert "Failures: 1 file" in page.text and str(tmp_path / "in/holiday/broken.jpg") in page.text
    assert "no thumbnail of the input" in page.text
    # Five processed pictures, before and after each; every picture decodes, with alt text.
    pictures = page.pictures()
    assert len(pictures) == 10
    assert all(image.get("alt", "").startswith(("Before: ", "After: ")) for image in page.images)
    assert all(max(picture.size) <= 200 for picture in pictures)  # about 160 px
    webp = [image for image in page.images if image["src"].startswith("data:image/webp")]
    assert len(webp) == 2 and all("logo.png" in image["alt"] for image in webp)  # transparency kept
    sideways = [image for image in page.images if "sideways.jpg" in image["alt"]]
    assert [int(image["width"]) > int(image["height"]) for image in sideways] == [True, True]  # upright
    # Links are relative and lead to the files; nothing outside the page is named.
    assert all(not link.startswith("/") for link in page.links)
    linked = page.linked_files()
    assert tmp_path / "out/holiday/beach.jpg" in linked and all(path.exists() for path in linked)
    assert page.external_urls() == []
    assert "script" not in page.tags and "@media print" in page.html
    assert page.html.count('<svg class="histogram"') == 2
    assert "The 6 slowest files" in page.text  # five pictures and the failure took time


def test_a_step_that_writes_no_pictures_gets_the_page_without_a_contact_sheet(cli, tmp_path):
    write_files(tmp_path / "docs", {"a.txt": "one"})
    write_files(tmp_path / "docs/b", {"c.txt": "two", "d.txt": "three"})
    result = cli("checksum", tmp_path / "docs", "--jobs", 1, "--report", tmp_path / "sums.html")
    assert result.exit_code == 0, result
    assert result.stdout.count("\n") == 3  # the manifest, as without --report
    page = Page(tmp_path / "sums.html")
    assert "checksum: 3 ok, 0 skipped, 0 failed; " in page.text and "11 B read" in page.text
    assert "saved" not in page.text and "Contact sheet" not in page.text
    assert page.images == [] and "No file failed." in page.text
    assert "Where the time went" in page.text and page.external_urls() == []


def test_exec_gets_the_page_without_a_contact_sheet(cli, tmp_path):
    write_files(tmp_path / "in", {"a.txt": "a" * 200, "b.txt": "b" * 200, "c.txt": "fail"})
    result = cli("exec", tmp_path / "in", "--shell", "--ext", ".gz", "--jobs", 1, "--report", tmp_path / "exec.html",
                 "--cmd", 'grep -q fail {} && { echo "no good: {}" >&2; exit 3; }; gzip -c {} > {out}')
    assert result.exit_code == 1, result
    page = Page(tmp_path / "exec.html")
    assert "exec: 2 ok, 0 skipped, 1 failed" in page.text and "% saved" in page.text
    assert "exit status 3: no good: the input: 1 file" in page.text  # its own path taken out
    assert "Contact sheet" not in page.text and page.images == []


def test_the_jobs_of_a_job_file_share_one_page_a_section_each(cli, tmp_path):
    write_tree(tmp_path / "photos", {"a.jpg": (400, 300), "b.jpg": (300, 400)})
    write_files(tmp_path / "texts", {"x.txt": "x"})
    (tmp_path / "nightly.toml").write_text(textwrap.dedent("""
        [defaults]
        jobs = 1
        [jobs.thumbnails]
        inputs = ["photos"]
        out = "web"
        step = "resize"
        options = { max = 100 }
        [jobs.sums]
        inputs = ["texts"]
        step = "checksum"
    """))
    result = cli("run", tmp_path / "nightly.toml", "--report", tmp_path / "night.html")
    assert result.exit_code == 0, result
    page = Page(tmp_path / "night.html")
    assert "thumbnails (resize): 2 ok" in page.text and "sums (checksum): 1 ok" in page.text
    assert page.html.count("<section ") == 2 and page.html.count("Contact sheet") == 1
    assert len(page.pictures()) == 4 and [link for link in page.links if link.startswith("#")] == ["#run-1", "#run-2"]


def test_a_job_that_cannot_run_says_why_on_the_page(cli, tmp_path):
    write_tree(tmp_path / "photos", {"a.jpg": (400, 300)})
    (tmp_path / "jobs.toml").write_text(textwrap.dedent("""
        [jobs.first]
        inputs = ["photos"]
        step = "resize"
        report = "page.html"
        [jobs.second]
        inputs = ["missing"]
        step = "resize"
        report = "page.html"
    """))
    result = cli("run", tmp_path / "jobs.toml")
    assert result.exit_code == 2 and "Error: job second: no such file or folder" in result.stderr
    page = Page(tmp_path / "page.html")  # jobs that name one page (relative to the file) share it
    assert "first (resize): 1 ok" in page.text
    assert f"second (resize): did not run: no such file or folder: {tmp_path / 'missing'}" in page.text


def test_a_page_that_could_not_be_written_is_refused_before_any_work(cli, tmp_path):
    write_tree(tmp_path / "in", {"a.jpg": (64, 48)})
    result = cli("resize", tmp_path / "in", "--report", tmp_path / "nowhere/report.html")
    assert result.exit_code == 2 and result.stderr.startswith("Error: --report ")
    assert not (tmp_path / "in_resized").exists()
    dry = cli("resize", tmp_path / "in", "--dry-run", "--report", tmp_path / "report.html")
    assert dry.exit_code == 2 and "--dry-run writes nothing" in dry.stderr
    assert not (tmp_path / "report.html").exists()


def test_an_up_to_date_rerun_gets_a_page_that_says_so(cli, tmp_path):
    write_tree(tmp_path / "in", {"a.jpg": (640, 480)})
    assert cli("resize", tmp_path / "in", "--jobs", 1).exit_code == 0
    result = cli("resize", tmp_path / "in", "--jobs", 1, "--report", tmp_path / "again.html")
    assert result.exit_code == 0, result
    page = Page(tmp_path / "again.html")
    assert "resize: 0 ok, 1 skipped (1 up to date)" in page.text
    assert "No file was processed in this run" in page.text and page.images == []


def test_a_watch_writes_its_page_at_the_stop(watch, tmp_path):
    pytest.importorskip("watchdog")
    from watching import age

    for path in write_tree(tmp_path / "in", {"a.jpg": (400, 300)}):
        age(path)
    run = watch("resize", "in", "--watch", "--settle", "0.3", "--max", "100", "--jobs", "1",
                "--report", "watch.html")
    run.line("ok: ")  # the first pass
    photo(320, 240, seed=3).save(tmp_path / "in/b.jpg")
    run.line("ok: ")  # taken once it settled
    assert run.stop() == 130
    page = Page(tmp_path / "watch.html")
    assert "resize: 2 ok, 0 skipped, 0 failed" in page.text and "interrupted" in page.text
    assert "Still running" not in page.text and len(page.pictures()) == 4
