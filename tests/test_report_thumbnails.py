"""Thumbnails for --report: made in the worker from pixels it decodes anyway, only when the run
asks for them (WorkerSpec.previews), and sent back in FileResult.previews.

Each file runs in a worker process of its own, as in a run: libvips' threads must never live
in the test process, which other tests fork (--start-method fork)."""

from __future__ import annotations

import importlib.util
import io
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest
from PIL import Image

from batchproc.errors import StepError
from batchproc.image import ImageStep
from batchproc.results import FAILED, OK
from batchproc_plugins.resize import Resize
from batchproc_plugins.strip import Strip
from images import marked, photo, save_oriented

SIZE = 160
needs_vips = pytest.mark.skipif(importlib.util.find_spec("pyvips") is None,
                                reason="libvips is not installed (pip install 'batchproc[vips]')")


class Refuse(ImageStep):
    """Fails every picture after decoding it."""

    name = "refuse"

    def transform(self, picture):
        picture.image  # decoded
        raise StepError("not today")


def run_in_worker(step_class, settings, source, target, previews):
    from batchproc.execution import run_task
    from batchproc.task import Task, WorkerSpec

    step = step_class(**settings)
    spec = WorkerSpec(step.name, step.settings, previews=previews)
    return run_task(step, Task(0, str(source), (str(target),)), spec)


@pytest.fixture(scope="module")
def worker():
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


@pytest.fixture
def run(worker):
    def run(step_class, source, target, previews=SIZE, **settings):
        return worker.submit(run_in_worker, step_class, settings, source, target, previews).result(timeout=60)

    return run


def opened(preview):
    image = Image.open(io.BytesIO(preview.data))
    image.load()
    return image


def test_no_thumbnails_unless_the_run_asks(tmp_path, run):
    photo(800, 600).save(tmp_path / "a.jpg")
    result = run(Resize, tmp_path / "a.jpg", tmp_path / "out.jpg", previews=0, longest=400)
    assert result.status == OK and result.previews is None


@pytest.mark.parametrize("engine", ["pillow", pytest.param("vips", marks=needs_vips)])
def test_a_resized_photo_has_its_input_and_output_as_thumbnails(tmp_path, run, engine):
    photo(1200, 800).save(tmp_path / "a.jpg", quality=90)
    result = run(Resize, tmp_path / "a.jpg", tmp_path / "out.jpg", longest=600, engine=engine)
    assert result.status == OK and result.data["engine"] == engine
    before, after = result.previews
    assert (before.picture_width, before.picture_height) == (1200, 800)
    assert (after.picture_width, after.picture_height) == (600, 400)
    for preview in (before, after):
        image = opened(preview)
        assert preview.media_type == "image/jpeg" and image.format == "JPEG"
        assert image.size == (preview.width, preview.height)
        assert SIZE <= image.width <= SIZE * 1.25 and abs(image.width / image.height - 1.5) < 0.02
    # Only scaled: the output's thumbnail (made as its check decodes it) shows the input too.
    assert before.data == after.data


@pytest.mark.parametrize("engine", ["pillow", pytest.param("vips", marks=needs_vips)])
def test_a_stripped_profile_shows(tmp_path, run, engine):
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    photo(800, 600).save(tmp_path / "a.jpg", icc_profile=profile)
    result = run(Resize, tmp_path / "a.jpg", tmp_path / "out.jpg", longest=400, strip=True, engine=engine)
    before, after = result.previews
    assert opened(before).info.get("icc_profile") == profile and not opened(after).info.get("icc_profile")


@pytest.mark.parametrize("engine", ["pillow", pytest.param("vips", marks=needs_vips)])
def test_thumbnails_are_upright_and_show_a_crop(tmp_path, run, engine):
    save_oriented(marked(600, 200), tmp_path / "a.jpg", 6, quality=95)  # stored sideways
    result = run(Resize, tmp_path / "a.jpg", tmp_path / "out.jpg", size="100x100^", engine=engine)
    before, after = result.previews
    assert (before.picture_width, before.picture_height) == (600, 200)
    width, height = opened(before).size
    assert SIZE <= width <= SIZE * 1.25 and abs(width / height - 3) < 0.1  # the whole picture, upright
    assert opened(before).getpixel((5, 5))[0] > 200  # its red corner top left
    assert opened(after).size == (100, 100)  # the centre the output keeps (not enlarged)
    assert opened(after).getpixel((50, 50))[2] > 200  # blue


def test_transparency_shows_in_thumbnails_and_is_flattened_where_the_output_has_none(tmp_path, run):
    image = Image.new("RGBA", (400, 400), (255, 0, 0, 0))
    image.paste((0, 0, 255, 255), (100, 100, 300, 300))
    image.save(tmp_path / "a.png")
    as_png = run(Resize, tmp_path / "a.png", tmp_path / "out.png", longest=200)
    before, after = as_png.previews
    assert before.media_type == after.media_type == "image/webp"
    assert opened(before).mode == "RGBA" and opened(before).getpixel((2, 2))[3] == 0
    as_jpeg = run(Resize, tmp_path / "a.png", tmp_path / "out.jpg", longest=200, output_format="jpeg",
                  background="white")
    before, after = as_jpeg.previews
    assert before.media_type == "image/webp" and after.media_type == "image/jpeg"
    assert opened(after).getpixel((2, 2)) == (255, 255, 255)  # as the JPEG shows it: on white


def test_a_file_that_does_not_decode_has_no_thumbnail(tmp_path, run):
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    result = run(Resize, tmp_path / "bad.jpg", tmp_path / "out.jpg", longest=100)
    assert result.status == FAILED and result.previews is None


def test_a_failed_file_whose_input_decodes_shows_it(tmp_path, run):
    photo(320, 240).save(tmp_path / "a.jpg")
    result = run(Refuse, tmp_path / "a.jpg", tmp_path / "out.jpg")
    assert result.status == FAILED and result.error == "not today"
    before, after = result.previews
    assert after is None and (before.picture_width, before.picture_height) == (320, 240)


def test_a_picture_copied_as_it_is_shows_the_same_thumbnail_twice(tmp_path, run):
    photo(300, 200).save(tmp_path / "a.jpg")
    result = run(Resize, tmp_path / "a.jpg", tmp_path / "out.jpg", longest=1600)  # already fits
    assert result.status == OK
    before, after = result.previews
    assert before == after and (before.picture_width, before.picture_height) == (300, 200)


def test_strip_shows_the_output_without_the_profile_it_dropped(tmp_path, run):
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    photo(640, 480).save(tmp_path / "a.jpg", icc_profile=profile, exif=Image.Exif().tobytes())
    result = run(Strip, tmp_path / "a.jpg", tmp_path / "out.jpg")
    assert result.status == OK
    before, after = result.previews
    assert opened(before).info.get("icc_profile") == profile
    assert not opened(after).info.get("icc_profile") and opened(after).size == opened(before).size
    kept = run(Strip, tmp_path / "a.jpg", tmp_path / "out2.jpg", keep_icc=True)
    assert kept.previews[0] == kept.previews[1]
