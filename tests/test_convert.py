"""The convert step: formats, extensions, quality, lossless, AVIF availability."""

import pytest
from PIL import Image, ImageChops, ImageCms, features

from images import marked, photo, save_oriented

AVIF = pytest.mark.skipif(not features.check("avif"), reason="this Pillow cannot write AVIF")


@pytest.fixture
def imgs(tmp_path):
    (tmp_path / "imgs").mkdir()
    photo(200, 100).save(tmp_path / "imgs/a.png")
    return tmp_path / "imgs"


@pytest.mark.parametrize("output_format, extension, pillow_format", [
    ("jpeg", ".jpg", "JPEG"), ("png", ".png", "PNG"), ("webp", ".webp", "WEBP"),
    ("tiff", ".tif", "TIFF"), pytest.param("avif", ".avif", "AVIF", marks=AVIF),
])
def test_converts_and_changes_the_extension(cli, imgs, tmp_path, output_format, extension, pillow_format):
    result = cli("convert", imgs, "--format", output_format, "--jobs", 1)
    assert result.exit_code == 0, result
    assert [p.name for p in (tmp_path / "imgs_converted").iterdir() if p.is_file()] == [f"a{extension}"]
    with Image.open(tmp_path / f"imgs_converted/a{extension}") as out:
        assert out.format == pillow_format and out.size == (200, 100)


@pytest.mark.parametrize("output_format", ["jpeg", "webp", pytest.param("avif", marks=AVIF)])
def test_quality_changes_the_size(cli, tmp_path, output_format):
    (tmp_path / "imgs").mkdir()
    photo(600, 400).save(tmp_path / "imgs/a.png")
    for quality in (20, 95):
        cli("convert", tmp_path / "imgs", "--out", tmp_path / f"q{quality}", "--format", output_format,
            "-q", quality, "--jobs", 1)
    low, high = (next((tmp_path / f"q{q}").glob("a.*")).stat().st_size for q in (20, 95))
    assert low < high / 2


def test_lossless_webp_keeps_every_pixel(cli, imgs, tmp_path):
    assert cli("convert", imgs, "--format", "webp", "--lossless", "--jobs", 1).exit_code == 0
    with Image.open(imgs / "a.png") as source, Image.open(tmp_path / "imgs_converted/a.webp") as out:
        assert ImageChops.difference(source.convert("RGB"), out.convert("RGB")).getbbox() is None


@AVIF
def test_lossless_avif_is_within_a_few_levels(cli, imgs, tmp_path):
    assert cli("convert", imgs, "--format", "avif", "--lossless", "--jobs", 1).exit_code == 0
    with Image.open(imgs / "a.png") as source, Image.open(tmp_path / "imgs_converted/a.avif") as out:
        extrema = ImageChops.difference(source.convert("RGB"), out.convert("RGB")).getextrema()
    assert max(high for _, high in extrema) <= 4


def test_avif_without_support_is_a_clear_usage_error(cli, imgs, monkeypatch):
    real_check = features.check
    monkeypatch.setattr(features, "check", lambda name: False if name == "avif" else real_check(name))
    result = cli("convert", imgs, "--format", "avif")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: this Pillow cannot write AVIF: upgrade it")


@pytest.mark.parametrize("options, message", [
    ((), "Missing option '--format'"),
    (("--format", "png", "--quality", "80"), "--quality applies to jpeg, webp, avif; png is lossless"),
    (("--format", "jpeg", "--lossless"), "--lossless applies to webp and avif (jpeg is always lossy)"),
])
def test_bad_options_are_usage_errors(cli, imgs, options, message):
    result = cli("convert", imgs, *options)
    assert result.exit_code == 2 and message in result.stderr


def test_orientation_applied_metadata_kept(cli, tmp_path):
    (tmp_path / "imgs").mkdir()
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    save_oriented(marked(120, 80), tmp_path / "imgs/a.jpg", 8, quality=95, icc_profile=profile)
    assert cli("convert", tmp_path / "imgs", "--format", "png", "--jobs", 1).exit_code == 0
    with Image.open(tmp_path / "imgs_converted/a.png") as out:
        assert out.size == (120, 80) and out.info.get("icc_profile") == profile
        assert out.getexif().get(0x0112) == 1
        red = out.convert("RGB").getpixel((3, 3))
    assert red[0] > 200 and red[2] < 60, red


def test_alpha_flattened_for_jpeg(cli, tmp_path):
    (tmp_path / "imgs").mkdir()
    Image.new("RGBA", (10, 10), (255, 0, 0, 0)).save(tmp_path / "imgs/a.png")
    assert cli("convert", tmp_path / "imgs", "--format", "jpeg", "--jobs", 1).exit_code == 0
    with Image.open(tmp_path / "imgs_converted/a.jpg") as out:
        assert out.mode == "RGB" and min(out.getpixel((5, 5))) > 245  # white, not the hidden red
