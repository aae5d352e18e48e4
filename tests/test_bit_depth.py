"""High bit depths: kept where the output format holds them, scaled from their own range where
it does not (batchproc.image.modes says how)."""

import pytest
from PIL import Image

from batchproc.image.modes import for_format, working


def grey(mode, values):
    image = Image.new(mode, (len(values), 1))
    image.putdata(values)
    return image


def pixels(image):
    return list(image.get_flattened_data())


@pytest.mark.parametrize("mode, values, expected", [
    ("I;16", [0, 32896, 65535], [0, 128, 255]),            # 16-bit: /257
    ("I", [0, 100, 255], [0, 100, 255]),                   # fits 8 bits: as it is
    ("I", [0, 32896, 65535], [0, 128, 255]),               # fits 16 bits: as 16-bit
    ("I", [-1000, 0, 1000], [0, 127, 255]),                # anything else: its own range
    ("F", [0.0, 0.5, 1.0], [0, 127, 255]),                 # 0-1: the float convention
    ("F", [-2.0, 0.0, 2.0], [0, 127, 255]),                # else: its own range
])
def test_deep_grey_is_scaled_to_eight_bits_from_its_range(mode, values, expected):
    eight = working(grey(mode, values))
    assert eight.mode == "L" and pixels(eight) == expected


@pytest.mark.parametrize("mode, fmt, kept", [
    ("I;16", "png", "I;16"), ("I;16", "tiff", "I;16"), ("I;16", "jpeg", "L"), ("I;16", "webp", "RGB"),
    ("I", "tiff", "I"), ("I", "png", "I;16"), ("F", "tiff", "F"), ("F", "png", "I;16"), ("F", "gif", "L"),
])
def test_depth_kept_where_the_format_holds_it(mode, fmt, kept):
    assert for_format(grey(mode, [0, 1, 2]), fmt).mode == kept


def test_float_to_png_is_sixteen_bits_from_its_range():
    assert pixels(for_format(grey("F", [0.0, 0.5, 1.0]), "png")) == [0, 32767, 65535]


def test_sixteen_bit_grey_survives_a_resize_to_tiff_and_png(cli, tmp_path):
    (tmp_path / "in").mkdir()
    ramp = Image.linear_gradient("L").resize((64, 32)).convert("I").point(lambda v: v * 257 + 1)
    ramp.convert("I;16").save(tmp_path / "in/a.png")
    ramp.convert("I;16").save(tmp_path / "in/b.tif")
    result = cli("resize", tmp_path / "in", "--width", 32, "--jobs", 1)
    assert result.exit_code == 0, result
    for name in ("a.png", "b.tif"):
        with Image.open(tmp_path / "in_resized" / name) as out:
            assert out.mode == "I;16" and out.size == (32, 16)
            assert any(value % 257 for value in pixels(out))  # not 8-bit values stretched


def test_sixteen_bit_grey_to_jpeg_is_scaled_not_clipped(cli, tmp_path):
    (tmp_path / "in").mkdir()
    Image.new("I;16", (40, 20), 32896).save(tmp_path / "in/a.png")
    result = cli("convert", tmp_path / "in", "--format", "jpeg", "--jobs", 1)
    assert result.exit_code == 0, result
    with Image.open(tmp_path / "in_converted/a.jpg") as out:
        assert out.mode == "L" and abs(out.getpixel((10, 10)) - 128) <= 1


def test_sixteen_bit_colour_stays_sixteen_bit_where_libvips_resizes_it_to_png(cli, tmp_path):
    from vips_reader import vips_write

    (tmp_path / "in").mkdir()
    Image.linear_gradient("L").resize((64, 32)).convert("RGB").save(tmp_path / "source.png")
    vips_write(tmp_path / "source.png", tmp_path / "in/a.png", cast="ushort")
    result = cli("resize", tmp_path / "in", "--width", 32, "--jobs", 1, "--json")
    if '"engine": "vips"' not in result.stdout:
        pytest.skip("pyvips is not installed: Pillow reads 16-bit colour at 8 bits")
    png = (tmp_path / "in_resized/a.png").read_bytes()
    assert png[24] == 16 and png[25] == 2  # IHDR: 16 bits per sample, RGB
    with Image.open(tmp_path / "in_resized/a.png") as out:
        assert out.size == (32, 16)
