"""The README's exec recipes run as printed (each where its tools are installed)."""

import gzip
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"


def recipes() -> dict[str, str]:
    """The one-line commands of the README's exec section, by the tool they run."""
    section = README.read_text().split("## Running any command: exec", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```\n(batchproc exec .*?)\n```", section)
    return {re.search(r"--cmd '(\S+)", command)[1]: command for command in commands}


def run(recipe: str, cwd: Path) -> subprocess.CompletedProcess:
    batchproc = " ".join(map(shlex.quote, [sys.executable, "-m", "batchproc"]))
    return subprocess.run(["bash", "-o", "pipefail", "-c", recipe.replace("batchproc", batchproc, 1)],
                          cwd=cwd, capture_output=True, text=True, timeout=120)


def need(*tools):
    missing = [tool for tool in tools if not shutil.which(tool)]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)}")


def test_the_section_has_the_five_recipes():
    assert sorted(recipes()) == ["ffmpeg", "gzip", "jpeginfo", "optipng", "pandoc"]


def test_video_transcode(tmp_path):
    need("ffmpeg")
    (tmp_path / "videos/sub").mkdir(parents=True)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=duration=1:size=64x48:rate=5",
                    tmp_path / "videos/sub/clip.mov"], check=True)
    done = run(recipes()["ffmpeg"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "videos_exec/sub/clip.mp4").read_bytes()[4:8] == b"ftyp"


def test_optipng_in_place(tmp_path):
    need("optipng")
    from PIL import Image

    (tmp_path / "site/img").mkdir(parents=True)
    Image.new("RGB", (64, 64), "red").save(tmp_path / "site/img/a.png", compress_level=0)
    before = (tmp_path / "site/img/a.png").stat().st_size
    done = run(recipes()["optipng"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "site/img").iterdir()) == ["a.png"]
    assert (tmp_path / "site/img/a.png").stat().st_size < before
    with Image.open(tmp_path / "site/img/a.png") as image:
        assert image.size == (64, 64)


def test_pandoc(tmp_path):
    need("pandoc")
    (tmp_path / "notes/2026").mkdir(parents=True)
    (tmp_path / "notes/2026/day.md").write_text("# Day\n\nSome *text*.\n")
    done = run(recipes()["pandoc"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "<em>text</em>" in (tmp_path / "public/2026/day.html").read_text()


def test_gzip_with_stdout(tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs/app.log").write_text("line\n" * 1000)
    done = run(recipes()["gzip"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert gzip.decompress((tmp_path / "logs_exec/app.log.gz").read_bytes()) == b"line\n" * 1000


def test_validator_with_no_output(tmp_path):
    need("jpeginfo", "jq")
    from PIL import Image

    (tmp_path / "photos").mkdir()
    Image.effect_noise((200, 200), 64).convert("RGB").save(tmp_path / "photos/good.jpg")
    data = (tmp_path / "photos/good.jpg").read_bytes()
    (tmp_path / "photos/cut.jpg").write_bytes(data[: len(data) // 2])
    done = run(recipes()["jpeginfo"], tmp_path)
    assert done.returncode == 1, done.stderr  # some files failed (the pipe runs with pipefail)
    assert done.stdout == "photos/cut.jpg\n"
    assert not (tmp_path / "photos_exec").exists()
