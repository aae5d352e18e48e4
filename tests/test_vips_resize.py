"""The optional libvips engine: same sizes, orientation and metadata as the Pillow engine."""

from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageCms, ImageStat

from batchproc.errors import StepError
from batchproc_plugins import vips_resize as engine
from batchproc_plugins.geometry import parse_geometry
from images import marked, photo, save_oriented

pytestmark = pytest.mark.skipif(not engine.available(), reason="pyvips is not installed")


def vips_resize(source, target, fmt="jpeg", **options):
    settings = dict(geometry=parse_geometry(**options), fmt=fmt, quality=90, strip=False,
                    background="white", resample="lanczos", max_pixels=200_000_000)
    return engine.resize(Path(source), Path(target), **settings)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_applied(tmp_path, orientation):
    save_oriented(marked(120, 80), tmp_path / "a.jpg", orientation, quality=95)
    assert vips_resize(tmp_path / "a.jpg", tmp_path / "out.jpg", width=60)["engine"] == "vips"
    with Image.open(tmp_path / "out.jpg") as out:
        assert out.size == (60, 40)
        assert out.getexif().get(0x0112, 1) == 1
        assert out.convert("RGB").getpixel((3, 3))[0] > 200


@pytest.mark.parametrize("options, size", [
    ({"size": "400x300"}, (400, 300)), ({"size": "300x300^"}, (300, 300)),
    ({"size": "100x50!"}, (100, 50)), ({"scale": "25%"}, (200, 150)),
])
def test_geometry_matches_the_pillow_engine(tmp_path, options, size):
    photo(800, 600).save(tmp_path / "a.jpg", quality=95)
    vips_resize(tmp_path / "a.jpg", tmp_path / "out.jpg", **options)
    with Image.open(tmp_path / "out.jpg") as out:
        assert out.size == size


def test_a_picture_that_already_fits_is_left_to_the_pipeline(tmp_path):
    # Nothing to resample: the Pillow pipeline decides whether anything needs doing (a byte copy).
    photo(800, 600).save(tmp_path / "a.jpg", quality=95)
    assert vips_resize(tmp_path / "a.jpg", tmp_path / "out.jpg", size="2000x2000") is None
    assert not (tmp_path / "out.jpg").exists()


def test_picture_close_to_a_full_resolution_lanczos(tmp_path):
    photo(1600, 1200).save(tmp_path / "a.jpg", quality=95)
    vips_resize(tmp_path / "a.jpg", tmp_path / "out.png", fmt="png", width=400)
    with Image.open(tmp_path / "a.jpg") as full, Image.open(tmp_path / "out.png") as out:
        reference = full.resize((400, 300), Image.Resampling.LANCZOS)
        error = ImageStat.Stat(ImageChops.difference(out.convert("RGB"), reference)).mean
    assert max(error) < 2


def test_icc_profile_kept_alpha_flattened(tmp_path):
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    photo(400, 300).save(tmp_path / "a.jpg", icc_profile=profile)
    vips_resize(tmp_path / "a.jpg", tmp_path / "out.jpg", width=100)
    with Image.open(tmp_path / "out.jpg") as out:
        assert out.info.get("icc_profile")
    Image.new("RGBA", (100, 100), (255, 0, 0, 0)).save(tmp_path / "clear.png")
    vips_resize(tmp_path / "clear.png", tmp_path / "flat.jpg", width=50)
    with Image.open(tmp_path / "flat.jpg") as out:
        assert out.mode == "RGB" and min(out.getpixel((25, 25))) > 240  # white, not the hidden red


@pytest.mark.parametrize("make", [
    lambda p: photo(64, 48).convert("CMYK").save(p / "a.jpg"),
    lambda p: photo(64, 48).convert("P").save(p / "a.gif"),
    lambda p: (p / "a.eps").write_text("%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"),
])
def test_jobs_it_does_not_do_like_pillow_fall_back(tmp_path, make):
    make(tmp_path)
    source = next(tmp_path.iterdir())
    assert vips_resize(source, tmp_path / "out.jpg", width=32) is None


def test_bomb_refused_before_decoding(tmp_path):
    photo(200, 100).save(tmp_path / "a.png")
    with pytest.raises(StepError, match="too many pixels"):
        engine.resize(tmp_path / "a.png", tmp_path / "o.png", geometry=parse_geometry(width=10),
                           fmt="png", quality=80, strip=False, background="white",
                           resample="lanczos", max_pixels=1000)
