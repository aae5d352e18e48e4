"""The thumbnail step: box sizes, cover and contain, never enlarging, the focus point."""

import pytest
from PIL import Image, ImageDraw, ImageStat

from images import marked, photo, save_oriented


def thumbnail(cli, tmp_path, *options):
    return cli("thumbnail", tmp_path / "imgs", "--jobs", 1, *options)


@pytest.mark.parametrize("source, options, expected", [
    ((400, 300), (), (256, 256)),                                  # the default: a 256 square
    ((400, 300), ("--size", "320x200"), (320, 200)),
    ((300, 400), ("--size", "100x200"), (100, 200)),
    ((100, 50), ("--size", "256"), (50, 50)),                      # never enlarged, still square
    ((100, 50), ("--size", "80x40"), (80, 40)),
    ((400, 300), ("--size", "256", "--fit", "contain"), (256, 192)),
    ((100, 50), ("--size", "256", "--fit", "contain"), (100, 50)),
])
def test_sizes(cli, tmp_path, source, options, expected):
    (tmp_path / "imgs").mkdir()
    photo(*source).save(tmp_path / "imgs/a.jpg")
    result = thumbnail(cli, tmp_path, *options)
    assert result.exit_code == 0, result
    with Image.open(tmp_path / "imgs_thumbnails/a.jpg") as out:
        assert out.size == expected


def detail_on_the_right(width=600, height=200):
    """A flat grey picture with a fine checkerboard near its right edge."""
    image = Image.new("RGB", (width, height), (128, 128, 128))
    draw = ImageDraw.Draw(image)
    for x in range(width - 190, width - 10, 6):
        for y in range(10, height - 10, 6):
            if (x // 6 + y // 6) % 2:
                draw.rectangle((x, y, x + 5, y + 5), fill=(255, 255, 255))
    return image


@pytest.mark.parametrize("focus, detailed", [("detail", True), ("centre", False)])
def test_focus_detail_crops_around_the_most_detailed_region(cli, tmp_path, focus, detailed):
    (tmp_path / "imgs").mkdir()
    detail_on_the_right().save(tmp_path / "imgs/a.png")
    result = thumbnail(cli, tmp_path, "--size", "100", "--focus", focus)
    assert result.exit_code == 0, result
    with Image.open(tmp_path / "imgs_thumbnails/a.png") as out:
        assert out.size == (100, 100)
        spread = ImageStat.Stat(out.convert("L")).stddev[0]
    assert (spread > 40) if detailed else (spread < 5), spread


def test_focus_detail_keeps_the_centre_of_a_flat_picture(tmp_path):
    from batchproc_plugins.thumbnail import detailed_corner

    assert detailed_corner(Image.new("RGB", (300, 100), "grey"), (100, 100)) == (100.0, 0.0)


def test_orientation_applied(cli, tmp_path):
    (tmp_path / "imgs").mkdir()
    save_oriented(marked(120, 80), tmp_path / "imgs/a.jpg", 6, quality=95)
    assert thumbnail(cli, tmp_path, "--size", "60x40").exit_code == 0
    with Image.open(tmp_path / "imgs_thumbnails/a.jpg") as out:
        assert out.size == (60, 40)
        red = out.convert("RGB").getpixel((3, 3))
    assert red[0] > 200 and red[2] < 60, red


def test_large_jpeg_is_decoded_at_reduced_scale(tmp_path, monkeypatch):
    from PIL.JpegImagePlugin import JpegImageFile

    from batchproc_plugins.thumbnail import Thumbnail

    photo(1600, 1200).save(tmp_path / "a.jpg")
    drafts = []
    real_draft = JpegImageFile.draft
    monkeypatch.setattr(JpegImageFile, "draft",
                        lambda self, mode, size: drafts.append(size) or real_draft(self, mode, size))
    Thumbnail(size="100").process(tmp_path / "a.jpg", tmp_path / "out.jpg")
    assert drafts == [(134, 100)]  # the 1200x1200 square scaled to 100 needs 134x100 of the whole
    assert Image.open(tmp_path / "out.jpg").size == (100, 100)


@pytest.mark.parametrize("size", ["0", "x200", "200x", "big", "10x0"])
def test_bad_size_is_a_usage_error(cli, tmp_path, size):
    (tmp_path / "imgs").mkdir()
    result = thumbnail(cli, tmp_path, "--size", size)
    assert result.exit_code == 2 and "bad --size" in result.stderr
