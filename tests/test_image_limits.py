"""Pixel limits: every frame within --max-pixels (GIF frame extents included), a whole animation
within its budget, Pillow's own warning an error, nothing refused that is never decoded."""

import json
import struct
import subprocess
import sys
import time
import zlib

import pytest
from PIL import Image

from batchproc.errors import StepError
from batchproc.image.limits import ANIMATION_FACTOR, TooManyPixels, check_animation, pixel_guard
from images import photo

IMAGE_STEPS = [("resize", "--width", "8"), ("thumbnail",), ("convert", "--format", "png"),
               ("convert", "--format", "webp"), ("strip",), ("chain", "--steps", "resize --max 8 | strip")]


def gif(screen, frames):
    """A GIF of one-colour frames, each (left, top, width, height), with one pixel of data."""
    data = b"GIF89a" + struct.pack("<HHBBB", *screen, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    for left, top, width, height in frames:
        data += b"\x21\xf9\x04\x00\x0a\x00\x00\x00"  # 100 ms, no disposal
        data += b"\x2c" + struct.pack("<HHHHB", left, top, width, height, 0)
        data += b"\x02\x02\x44\x01\x00"  # LZW: clear, one pixel of colour 0, end
    return data + b"\x3b"


def run_measured(*args):
    """batchproc in a process of its own; its exit code, records, seconds and the peak memory
    of the largest process it started (its workers included)."""
    probe = ("import resource, subprocess, sys, time; started = time.monotonic(); "
             "done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
             "print(done.returncode, time.monotonic() - started, "
             "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); print(done.stdout, end='')")
    completed = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "batchproc",
                                *map(str, args), "--json"], capture_output=True, text=True, timeout=120)
    code, seconds, peak_kb = completed.stdout.splitlines()[0].split()
    records = [json.loads(line) for line in completed.stdout.splitlines()[1:]]
    return int(code), records, float(seconds), int(peak_kb) * 1024


@pytest.mark.parametrize("step", IMAGE_STEPS, ids=lambda step: " ".join(step))
def test_a_gif_frame_declaring_huge_extents_fails_at_once_in_bounded_memory(tmp_path, step):
    (tmp_path / "in").mkdir()
    (tmp_path / "in/bomb.gif").write_bytes(gif((32, 32), [(0, 0, 4, 4), (1, 1, 65535, 65535)]))
    code, records, seconds, peak = run_measured(step[0], tmp_path / "in", *step[1:],
                                                "--out", tmp_path / "out", "--jobs", 1)
    assert code == 1 and records[0]["status"] == "failed"
    assert records[0]["error"] == ("too many pixels: frame 2 reaches 65536x65536, beyond the 32x32 "
                                   "picture, a canvas of 4295 MP, over --max-pixels 200 MP")
    assert seconds < 10 and peak < 200 * 2**20, (seconds, peak)


def test_max_pixels_applies_to_every_frame(tmp_path, cli):
    (tmp_path / "in").mkdir()
    (tmp_path / "in/a.gif").write_bytes(gif((50, 50), [(0, 0, 50, 50), (40, 40, 60, 60)]))
    result = cli("resize", tmp_path / "in", "--max-pixels", 5000, "--jobs", 1)
    assert result.exit_code == 1
    assert "a.gif: too many pixels: frame 2 reaches 100x100, beyond the 50x50 picture" in result.stderr


def animation(path, frames, size=(20, 20)):
    images = [Image.new("P", size, index % 2) for index in range(frames)]
    for image in images:
        image.putpalette([0, 0, 0, 255, 255, 255])
    images[0].save(path, save_all=True, append_images=images[1:], duration=50, loop=0)


@pytest.mark.parametrize("frames, ok", [(12, True), (13, False)])
def test_a_whole_animation_has_a_budget_of_its_own(tmp_path, cli, frames, ok):
    # 400 pixels a frame, --max-pixels 1000: the budget is 5 x 1000, so 12 frames fit, 13 do not.
    (tmp_path / "in").mkdir()
    animation(tmp_path / "in/a.gif", frames)
    result = cli("resize", tmp_path / "in", "--width", 10, "--max-pixels", 1000, "--jobs", 1)
    if ok:
        assert result.exit_code == 0, result
        with Image.open(tmp_path / "in_resized/a.gif") as out:
            assert out.n_frames == frames and out.size == (10, 10)
    else:
        assert result.exit_code == 1
        assert f"a.gif: too many pixels: {frames} frames hold over 0 MP, over 0 MP (5 x --max-pixels)" \
            in result.stderr


def test_the_documented_budget_passes_100_frames_of_1080p_not_10000():
    frame = 1920 * 1080
    check_animation(100 * frame, 100, 200_000_000)
    with pytest.raises(TooManyPixels):
        check_animation(10_000 * frame, 10_000, 200_000_000)
    assert ANIMATION_FACTOR * 200_000_000 == 1_000_000_000


def test_pillows_warning_between_one_and_two_times_the_limit_is_an_error(tmp_path):
    photo(12, 12).save(tmp_path / "a.png")  # 144 pixels: Pillow only warns over a limit of 100
    with pytest.raises(StepError, match="too many pixels: a frame of 0 MP is over --max-pixels 0 MP"):
        with pixel_guard(100):
            Image.open(tmp_path / "a.png").load()
    assert Image.MAX_IMAGE_PIXELS == int(1024 * 1024 * 1024 // 4 // 3)  # Pillow's own, put back


def test_pages_of_a_tiff_are_each_within_the_limit(tmp_path, cli):
    (tmp_path / "in").mkdir()
    photo(20, 20).save(tmp_path / "in/a.tif", save_all=True, append_images=[photo(100, 100)])
    result = cli("resize", tmp_path / "in", "--max-pixels", 1000, "--jobs", 1)
    assert result.exit_code == 1
    assert "a.tif: too many pixels: page 2 100x100 is 0 MP, over --max-pixels 0 MP" in result.stderr


def test_steps_that_never_decode_are_not_refused_for_size(tmp_path):
    from batchproc_plugins.strip import Strip

    photo(200, 100).save(tmp_path / "a.jpg", exif=Image.Exif().tobytes())
    strip = Strip()
    strip.max_pixels = 1000  # far below the picture's 20,000 pixels
    strip.process(tmp_path / "a.jpg", tmp_path / "out.jpg")
    strip.verify([tmp_path / "out.jpg"], {}, thorough=False)
    with Image.open(tmp_path / "out.jpg") as out:
        assert out.size == (200, 100)


def test_the_limit_refuses_before_decoding(tmp_path):
    from batchproc_plugins.resize import Resize

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    (tmp_path / "bomb.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0))
        + chunk(b"IEND", b""))
    started = time.monotonic()
    with pytest.raises(StepError, match="100000x100000 is 10000 MP, over --max-pixels 200 MP"):
        Resize(engine="pillow").process(tmp_path / "bomb.png", tmp_path / "out.png")
    assert time.monotonic() - started < 1
