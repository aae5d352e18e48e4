"""The resize step: sizes, upright pictures, colour modes, metadata, animation, bombs."""

import struct
import zlib

import pytest
from PIL import Image, ImageChops, ImageCms, ImageStat
from PIL.JpegImagePlugin import JpegImageFile

from images import marked, photo, save_oriented


@pytest.fixture(params=["pillow", "vips"], autouse=True)
def engine(request, monkeypatch):
    """Every test here runs on both engines: the same pictures must come out."""
    from batchproc_plugins import vips_resize

    if request.param == "vips" and not vips_resize.available():
        pytest.skip("pyvips is not installed")
    monkeypatch.setenv("BATCHPROC_TEST_ENGINE", request.param)
    return request.param


def resize(cli, tmp_path, *options):
    """Resize the files in tmp_path/in into tmp_path/out with the engine under test."""
    import os

    engine = os.environ["BATCHPROC_TEST_ENGINE"]
    return cli("resize", tmp_path / "in", "--out", tmp_path / "out", "--jobs", 1, "--engine", engine, *options)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_applied_and_reset(cli, tmp_path, orientation):
    (tmp_path / "in").mkdir()
    save_oriented(marked(120, 80), tmp_path / "in/a.jpg", orientation, quality=95)
    result = resize(cli, tmp_path, "--width", 60)
    assert result.exit_code == 0, result
    with Image.open(tmp_path / "out/a.jpg") as out:
        assert out.size == (60, 40)  # upright: landscape, like the picture the camera saw
        assert out.getexif().get(0x0112) == 1
        red, blue = out.convert("RGB").getpixel((3, 3)), out.convert("RGB").getpixel((50, 30))
    assert red[0] > 200 and red[2] < 60, red  # the red corner is top-left again
    assert blue[2] > 200 and blue[0] < 60, blue


@pytest.mark.parametrize("mode, suffix, expected_mode", [
    ("RGB", ".jpg", "RGB"),
    ("L", ".jpg", "L"),
    ("CMYK", ".jpg", "RGB"),
    ("RGBA", ".png", "RGBA"),
    ("LA", ".png", "LA"),
    ("P", ".png", "RGB"),
    ("I;16", ".png", "I;16"),
    ("1", ".png", "L"),
])
def test_colour_modes(cli, tmp_path, mode, suffix, expected_mode):
    (tmp_path / "in").mkdir()
    source = photo(200, 100, mode="RGB")
    if mode == "I;16":
        source = source.convert("L").point(lambda v: v).convert("I").point(lambda v: v * 257).convert("I;16")
    else:
        source = source.convert(mode)
    source.save(tmp_path / f"in/a{suffix}")
    result = resize(cli, tmp_path, "--width", 50)
    assert result.exit_code == 0, result
    with Image.open(tmp_path / f"out/a{suffix}") as out:
        assert out.size == (50, 25)
        assert out.mode == expected_mode
        if mode == "I;16":  # 16-bit grey stays 16-bit in PNG: its values are not cut to 8 bits
            values = list(out.get_flattened_data())
            assert 20 * 257 < sum(values) / len(values) < 235 * 257 and max(values) > 255


def test_alpha_flattened_onto_background_for_jpeg(cli, tmp_path):
    (tmp_path / "in").mkdir()
    image = Image.new("RGBA", (100, 100), (255, 0, 0, 0))  # fully transparent red
    image.save(tmp_path / "in/a.png")
    result = resize(cli, tmp_path, "--width", 50, "--format", "jpeg", "--background", "black")
    assert result.exit_code == 0, result
    with Image.open(tmp_path / "out/a.jpg") as out:
        assert out.mode == "RGB"
        assert max(out.getpixel((25, 25))) < 10  # the background shows, not the hidden red


def test_palette_with_transparency_keeps_alpha_in_png(cli, tmp_path):
    (tmp_path / "in").mkdir()
    image = Image.new("P", (100, 100), 0)
    image.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    image.info["transparency"] = 0
    image.save(tmp_path / "in/a.png", transparency=0)
    assert resize(cli, tmp_path, "--width", 50).exit_code == 0
    with Image.open(tmp_path / "out/a.png") as out:
        assert out.mode == "RGBA" and out.getpixel((10, 10))[3] == 0


def test_icc_profile_kept_and_strip_drops_metadata(cli, tmp_path):
    (tmp_path / "in").mkdir()
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "ACME camera"
    photo(400, 300).save(tmp_path / "in/a.jpg", icc_profile=profile, exif=exif.tobytes())
    assert resize(cli, tmp_path, "--width", 100).exit_code == 0
    with Image.open(tmp_path / "out/a.jpg") as out:
        assert out.info.get("icc_profile") == profile
        assert out.getexif().get(0x010F) == "ACME camera"
    assert cli("resize", tmp_path / "in", "--out", tmp_path / "stripped", "--width", 100, "--strip",
               "--jobs", 1).exit_code == 0
    with Image.open(tmp_path / "stripped/a.jpg") as out:
        assert "icc_profile" not in out.info and "exif" not in out.info


def test_animated_gif_keeps_every_frame(cli, tmp_path):
    (tmp_path / "in").mkdir()
    frames = [photo(200, 100, seed=i).convert("P") for i in range(3)]
    frames[0].save(tmp_path / "in/a.gif", save_all=True, append_images=frames[1:], duration=80, loop=0)
    assert resize(cli, tmp_path, "--width", 50).exit_code == 0
    with Image.open(tmp_path / "out/a.gif") as out:
        assert out.size == (50, 25) and out.n_frames == 3 and out.info["duration"] == 80


def test_animated_gif_to_jpeg_takes_the_first_frame(cli, tmp_path):
    (tmp_path / "in").mkdir()
    frames = [photo(200, 100, seed=i).convert("P") for i in range(3)]
    frames[0].save(tmp_path / "in/a.gif", save_all=True, append_images=frames[1:])
    assert resize(cli, tmp_path, "--width", 50, "--format", "jpeg").exit_code == 0
    with Image.open(tmp_path / "out/a.jpg") as out:
        assert out.size == (50, 25) and getattr(out, "n_frames", 1) == 1


@pytest.mark.parametrize("output_format, extension, pillow_format", [
    ("jpeg", ".jpg", "JPEG"), ("png", ".png", "PNG"), ("webp", ".webp", "WEBP"),
])
def test_format_conversion_changes_the_extension(cli, tmp_path, output_format, extension, pillow_format):
    (tmp_path / "in").mkdir()
    photo(200, 100).save(tmp_path / "in/a.jpg")
    assert resize(cli, tmp_path, "--width", 100, "--format", output_format).exit_code == 0
    with Image.open(tmp_path / f"out/a{extension}") as out:
        assert out.format == pillow_format and out.size == (100, 50)


def test_quality_changes_the_bytes(cli, tmp_path):
    (tmp_path / "in").mkdir()
    photo(800, 600).save(tmp_path / "in/a.jpg", quality=95)
    cli("resize", tmp_path / "in", "--out", tmp_path / "q30", "--width", 400, "-q", 30, "--jobs", 1)
    cli("resize", tmp_path / "in", "--out", tmp_path / "q95", "--width", 400, "-q", 95, "--jobs", 1)
    assert (tmp_path / "q30/a.jpg").stat().st_size < (tmp_path / "q95/a.jpg").stat().st_size / 2


def _png_header_only(width, height):
    """A PNG whose header claims width x height pixels: a decompression bomb's calling card."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


def test_decompression_bomb_refused_with_a_clear_error(cli, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in/bomb.png").write_bytes(_png_header_only(100_000, 100_000))
    photo(100, 100).save(tmp_path / "in/fine.png")
    result = resize(cli, tmp_path, "--width", 50)
    assert result.exit_code == 1
    assert "bomb.png: too many pixels: 100000x100000 is 10000 MP, over --max-pixels 200 MP" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "out/fine.png").exists() and not (tmp_path / "out/bomb.png").exists()


def test_max_pixels_option_lowers_the_limit(cli, tmp_path):
    (tmp_path / "in").mkdir()
    photo(200, 100).save(tmp_path / "in/a.png")
    result = resize(cli, tmp_path, "--max-pixels", 10_000)
    assert result.exit_code == 1 and "200x100 is 0 MP, over --max-pixels 0 MP" in result.stderr


@pytest.mark.parametrize("content, message", [
    (b"hello, I am text", "not a readable image"),
    (b"", "not a readable image"),
])
def test_not_an_image_despite_its_name(cli, tmp_path, content, message):
    (tmp_path / "in").mkdir()
    (tmp_path / "in/a.jpg").write_bytes(content)
    result = resize(cli, tmp_path)
    assert result.exit_code == 1 and f"a.jpg: {message}" in result.stderr


def test_truncated_jpeg_is_one_line_of_error(cli, tmp_path):
    (tmp_path / "in").mkdir()
    photo(400, 300).save(tmp_path / "in/whole.jpg")
    data = (tmp_path / "in/whole.jpg").read_bytes()
    (tmp_path / "in/cut.jpg").write_bytes(data[: len(data) // 2])
    result = resize(cli, tmp_path, "--width", 100)
    assert result.exit_code == 1
    failures = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert len(failures) == 1 and failures[0].endswith("cut.jpg: truncated image")
    assert (tmp_path / "out/whole.jpg").exists()


def test_jpeg_shrink_decodes_at_reduced_scale_and_stays_close_to_full_decode(tmp_path, monkeypatch):
    from batchproc_plugins.resize import Resize

    source = tmp_path / "a.jpg"
    photo(1600, 1200).save(source, quality=95)
    drafts = []
    real_draft = JpegImageFile.draft
    monkeypatch.setattr(JpegImageFile, "draft",
                        lambda self, mode, size: drafts.append(size) or real_draft(self, mode, size))
    Resize(width=400, quality=95, engine="pillow").process(source, tmp_path / "out.jpg")
    assert drafts == [(400, 300)]
    with Image.open(source) as full:
        reference = full.resize((400, 300), Image.Resampling.LANCZOS)
    with Image.open(tmp_path / "out.jpg") as out:
        error = ImageStat.Stat(ImageChops.difference(out.convert("L"), reference.convert("L"))).mean[0]
    assert error < 3  # mean absolute error under 3 levels of 255


def test_the_record_names_the_engine_that_ran(cli, tmp_path, engine):
    import json

    (tmp_path / "in").mkdir()
    photo(200, 100).save(tmp_path / "in/a.jpg", quality=90)
    result = resize(cli, tmp_path, "--width", 50, "--json")
    assert result.exit_code == 0, result
    record = json.loads(result.stdout)
    assert (record["engine"], record["width"], record["height"]) == (engine, 50, 25)
