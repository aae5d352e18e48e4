"""Job files for cron: named folders, defaults, several jobs, one exit code that means something."""

import json
import textwrap

import pytest

from images import write_tree

NIGHTLY = """
[folders]
photos = "photos"
web = "web"

[defaults]
jobs = 1
log = "nightly.jsonl"

[jobs.thumbnails]
inputs = ["photos"]
out = "web/thumbs"
step = "resize"
options = { max = 32, quality = 70 }

[jobs.large]
inputs = ["photos/holiday"]
out = "web/large"
step = "resize"
options = { size = "60x60^", max-pixels = 1000000 }
"""


@pytest.fixture
def job_file(tmp_path):
    write_tree(tmp_path / "photos", {"a.jpg": (120, 90), "holiday/b.jpg": (120, 90)})
    (tmp_path / "nightly.toml").write_text(NIGHTLY)
    return tmp_path / "nightly.toml"


def test_jobs_run_in_order_with_paths_relative_to_the_file(cli, job_file, tmp_path, monkeypatch):
    monkeypatch.chdir("/")  # cron starts elsewhere
    result = cli("run", job_file)
    assert result.exit_code == 0, result
    from PIL import Image

    with Image.open(tmp_path / "web/thumbs/holiday/b.jpg") as image:
        assert max(image.size) == 32
    with Image.open(tmp_path / "web/large/b.jpg") as image:
        assert image.size == (60, 60)
    lines = result.stderr.splitlines()
    assert lines[0].startswith("thumbnails (resize): 2 ok") and lines[1].startswith("large (resize): 1 ok")
    records = [json.loads(line) for line in (tmp_path / "nightly.jsonl").read_text().splitlines()]
    assert len([record for record in records if "status" in record]) == 3  # the defaults' log is shared
    assert [r["job"] for r in records if r.get("record") == "run"] == ["thumbnails", "large"]
    assert len({record["run"] for record in records}) == 1  # one run: a header and an end per job


def test_quiet_rerun_of_a_cron_job_is_silent_and_does_nothing(cli, job_file):
    assert cli("run", job_file).exit_code == 0
    again = cli("run", job_file, "--quiet")
    assert again.exit_code == 0 and again.stderr == "" and again.stdout == ""


def test_one_job_can_be_chosen(cli, job_file, tmp_path):
    assert cli("run", job_file, "--job", "large").exit_code == 0
    assert (tmp_path / "web/large").exists() and not (tmp_path / "web/thumbs").exists()
    missing = cli("run", job_file, "--job", "nope")
    assert missing.exit_code == 2 and "has no job named nope (it has thumbnails, large)" in missing.stderr


@pytest.mark.parametrize("text, message", [
    ("[jobs.x]\ninputs = ['.']\nstep = 'resize'\noptions = { maximum = 3 }\n", "job x: unknown option 'maximum'"),
    ("[jobs.x]\ninputs = ['.']\nstep = 'nosuch'\n", "job x: no step named 'nosuch' is installed"),
    ("[jobs.x]\nstep = 'resize'\n", "job x: inputs must be a list"),
    ("[jobs.x\n", "is not valid TOML"),
    ("[job.x]\n", "has no [jobs.NAME] tables"),
])
def test_mistakes_in_the_file_are_one_error_line(cli, tmp_path, text, message):
    (tmp_path / "bad.toml").write_text(text)
    result = cli("run", tmp_path / "bad.toml")
    assert result.exit_code == 2 and message in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_the_exit_code_is_the_most_serious_and_a_failing_job_does_not_stop_the_next(cli, job_file, tmp_path):
    (tmp_path / "photos/broken.jpg").write_bytes(b"junk")
    result = cli("run", job_file)
    assert result.exit_code == 1
    assert "large (resize): 1 ok" in result.stderr


def test_a_job_of_several_steps_runs_them_as_one_chain(cli, tmp_path):
    write_tree(tmp_path / "photos", {"a.jpg": (120, 90)})
    (tmp_path / "web.toml").write_text(textwrap.dedent("""
        [jobs.web]
        inputs = ["photos"]
        out = "web"
        steps = [{ step = "resize", max = 40 }, { step = "strip" }, { step = "convert", format = "webp" }]
    """))
    result = cli("run", tmp_path / "web.toml")
    assert result.exit_code == 0, result
    from PIL import Image

    with Image.open(tmp_path / "web/a.webp") as image:
        assert image.format == "WEBP" and image.size == (40, 30) and "exif" not in image.info
