"""Never re-encode what needs no change: a picture no step changed is its input, byte for byte;
in place, such a file is left alone with a reason."""

import json
import os

import pytest
from PIL import Image

from conftest import file_records
from images import marked, photo, save_oriented


def make(tmp_path, name, **options):
    (tmp_path / "in").mkdir(exist_ok=True)
    path = tmp_path / "in" / name
    frames = options.pop("frames", None)
    if frames:
        images = [photo(60, 40, seed=index).convert("P") for index in range(frames)]
        images[0].save(path, save_all=True, append_images=images[1:], duration=80, loop=0)
    else:
        photo(60, 40).save(path, **options)
    return path


@pytest.mark.parametrize("name, step", [
    ("a.jpg", ("resize",)),
    ("a.jpg", ("resize", "--engine", "pillow", "--quality", "40")),  # quality alone changes nothing
    ("a.png", ("resize", "--max", "500")),
    ("a.webp", ("thumbnail", "--size", "100", "--fit", "contain")),
    ("a.gif", ("resize",)),
    ("a.tif", ("resize",)),
    ("a.png", ("convert", "--format", "png")),
    ("a.jpg", ("chain", "--steps", "resize --max 100 | convert --format jpeg")),
    ("anim.gif", ("resize", "--width", "60")),
])
def test_a_picture_that_needs_no_change_is_copied_byte_for_byte(cli, tmp_path, name, step):
    source = make(tmp_path, name, **({"frames": 3} if name == "anim.gif" else {}))
    result = cli(step[0], tmp_path / "in", *step[1:], "--out", tmp_path / "out", "--jobs", 1, "--json")
    assert result.exit_code == 0, result
    assert (tmp_path / "out" / name).read_bytes() == source.read_bytes()
    record = json.loads(result.stdout)
    assert (record["width"], record["height"]) == (60, 40)


@pytest.mark.parametrize("step", [("resize",), ("resize", "--max", "1000", "--engine", "pillow"),
                                  ("thumbnail", "--size", "100", "--fit", "contain"),
                                  ("convert", "--format", "jpeg")])
def test_in_place_a_picture_that_needs_no_change_is_left_alone(cli, tmp_path, step):
    source = make(tmp_path, "a.jpg")
    os.utime(source, (1_000_000_000, 1_000_000_000))
    before = source.read_bytes()
    result = cli(step[0], tmp_path / "in", *step[1:], "--in-place", "--jobs", 1, "--json")
    assert result.exit_code == 0, result
    record = json.loads(result.stdout)
    assert record["status"] == "skipped"
    assert record["error"] == ("already in that format" if step[0] == "convert" else "already fits")
    assert source.read_bytes() == before and source.stat().st_mtime == 1_000_000_000


@pytest.mark.parametrize("why, options, step", [
    ("turned", {}, ("resize",)),
    ("stripped", {}, ("resize", "--strip")),
    ("converted", {}, ("convert", "--format", "webp")),
    ("changed pixels", {}, ("resize", "--width", "30")),
])
def test_a_picture_a_step_changes_is_encoded(cli, tmp_path, why, options, step):
    (tmp_path / "in").mkdir()
    source = tmp_path / "in/a.jpg"
    if why == "turned":
        save_oriented(marked(60, 40), source, 6)
    else:
        photo(60, 40).save(source, exif=Image.Exif().tobytes())
    result = cli(step[0], tmp_path / "in", *step[1:], "--out", tmp_path / "out", "--jobs", 1)
    assert result.exit_code == 0, result
    output = next((tmp_path / "out").glob("a.*"))
    assert output.read_bytes() != source.read_bytes(), why


def test_several_outputs_copy_the_ones_that_fit(cli, tmp_path):
    source = make(tmp_path, "a.jpg")
    result = cli("resize", tmp_path / "in", "--widths", "30,60,120", "--out", tmp_path / "out", "--jobs", 1)
    assert result.exit_code == 0, result
    assert (tmp_path / "out/a-60.jpg").read_bytes() == source.read_bytes()
    assert (tmp_path / "out/a-120.jpg").read_bytes() == source.read_bytes()  # never enlarged
    with Image.open(tmp_path / "out/a-30.jpg") as out:
        assert out.size == (30, 20)


def test_an_animation_written_to_a_still_format_is_not_a_copy(cli, tmp_path):
    make(tmp_path, "a.png", frames=None)
    source = make(tmp_path, "anim.gif", frames=3)
    result = cli("convert", tmp_path / "in", "--format", "png", "--jobs", 1, "--log", tmp_path / "log")
    assert result.exit_code == 0, result
    records = {record["input"]: record for record in file_records(tmp_path / "log")}
    assert records[str(source)]["warnings"] == ["kept the first of 3 frames: PNG does not animate"]
    with Image.open(tmp_path / "in_converted/anim.png") as out:
        assert getattr(out, "n_frames", 1) == 1 and out.size == (60, 40)
