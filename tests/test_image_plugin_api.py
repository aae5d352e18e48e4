"""The public image API: a step written from docs/PLUGINS.md alone works, alone and chained, and
a Picture shows plugins its documented members only."""

import dataclasses
import re
from pathlib import Path

import pytest
from PIL import Image

from batchproc.image import ImageStep, Metadata, Picture
from images import marked, save_oriented

DOCS = Path(__file__).parent.parent / "docs" / "PLUGINS.md"


def image_step_example() -> str:
    """The first Python example of the docs' "Image steps" section, as written there."""
    section = DOCS.read_text().split("## Image steps", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S)[1]


def test_the_documented_image_step_works_alone_and_in_a_chain(cli, tmp_path):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins/mirror.py").write_text(image_step_example())
    (tmp_path / "imgs").mkdir()
    save_oriented(marked(120, 80), tmp_path / "imgs/a.jpg", 6, quality=95)  # stored turned
    result = cli("--plugin-dir", tmp_path / "plugins", "mirror", tmp_path / "imgs", "--jobs", 1)
    assert result.exit_code == 0, result
    with Image.open(tmp_path / "imgs_mirrored/a.jpg") as out:
        assert out.size == (120, 80)  # upright
        assert out.convert("RGB").getpixel((116, 3))[0] > 200  # the red corner, mirrored to the right
    chained = cli("--plugin-dir", tmp_path / "plugins", "chain", tmp_path / "imgs",
                  "--steps", "resize --width 60 | mirror | convert --format png", "--jobs", 1)
    assert chained.exit_code == 0, chained
    with Image.open(tmp_path / "imgs_processed/a.png") as out:
        assert out.size == (60, 40) and out.convert("RGB").getpixel((58, 1))[0] > 200


def test_a_picture_shows_only_its_documented_fields():
    public = {field.name for field in dataclasses.fields(Picture) if not field.name.startswith("_")}
    assert public == {"format", "quality", "lossless", "background", "metadata"}
    members = {name for name in vars(Picture) if not name.startswith("_")} - public
    assert members == {"upright_size", "image", "draft", "map", "resize", "replace"}
    assert {field.name for field in dataclasses.fields(Metadata)} == {"exif", "icc_profile", "xmp", "dpi"}
    assert ImageStep.unchanged_reason == "nothing to change"


def test_map_and_replace_change_output_fields_only():
    picture = Picture(format="png", _image=Image.new("RGB", (4, 2)))
    assert picture.replace(format="webp", quality=80).format == "webp"
    mapped = picture.map(lambda frame: frame.resize((2, 1)), quality=70)
    assert (mapped.quality, mapped.upright_size, mapped.image.size) == (70, (2, 1), (2, 1))
    with pytest.raises(TypeError, match="not _turn"):
        picture.replace(_turn=6)
