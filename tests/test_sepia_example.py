"""The example third-party plugin in examples/batchproc-sepia: installed, and straight from source."""

import importlib
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from PIL import Image

from installed import write_dist_info

EXAMPLE = Path(__file__).parent.parent / "examples" / "batchproc-sepia"


def installed() -> bool:
    return any(ep.name == "sepia" and ep.dist and ep.dist.name == "batchproc-sepia"
               for ep in entry_points(group="batchproc"))


@pytest.fixture
def load_sepia(monkeypatch):
    """Let the `sepia` entry point load in tests (conftest loads batchproc's own only)."""
    monkeypatch.setenv("BATCHPROC_LOAD_PLUGINS", os.environ["BATCHPROC_LOAD_PLUGINS"] + ",sepia")


@pytest.fixture
def sepia_from_source(tmp_path, monkeypatch, load_sepia):
    """The example as an installed package would look, without installing it: a dist-info
    declaring its entry point, and its folder on the path (of this process and of workers)."""
    site = tmp_path / "site-packages"
    write_dist_info(site, "batchproc_sepia", entry_name="sepia")
    for folder in (EXAMPLE, site):
        monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), str(EXAMPLE), os.environ.get("PYTHONPATH", "")]))
    sys.modules.pop("batchproc_sepia", None)
    importlib.invalidate_caches()
    yield
    sys.modules.pop("batchproc_sepia", None)


def blue_pictures(tmp_path):
    (tmp_path / "imgs").mkdir()
    Image.new("RGB", (80, 40), (0, 0, 255)).save(tmp_path / "imgs/a.png")
    Image.new("RGBA", (80, 40), (0, 0, 255, 0)).save(tmp_path / "imgs/clear.png")
    return tmp_path / "imgs"


def assert_sepia(pixel):
    red, green, blue = pixel[:3]
    assert red > green > blue, pixel  # a warm brown, no longer blue


def exercise(cli, tmp_path, *run_options):
    listing = cli("plugins")
    assert "sepia\tbatchproc-sepia:sepia\tTone images sepia (an example plugin)." in listing.stdout
    assert "Example: batchproc sepia" in cli("sepia", "--help").stdout
    imgs = blue_pictures(tmp_path)
    result = cli("sepia", imgs, *run_options)
    assert result.exit_code == 0, result
    with Image.open(tmp_path / "imgs_sepia/a.png") as out:
        assert_sepia(out.getpixel((10, 10)))
    with Image.open(tmp_path / "imgs_sepia/clear.png") as out:
        assert out.mode == "RGBA" and out.getpixel((10, 10))[3] == 0  # transparency kept
    chained = cli("chain", imgs, "--steps", "resize --width 40 | sepia --strength 1 | convert --format webp",
                  *run_options)
    assert chained.exit_code == 0, chained
    with Image.open(tmp_path / "imgs_processed/a.webp") as out:
        assert out.size == (40, 20)
        assert_sepia(out.convert("RGB").getpixel((10, 10)))


@pytest.mark.skipif(not installed(), reason="the example plugin is not installed: "
                    "pip install ./examples/batchproc-sepia (CI does)")
def test_installed_example_plugin(cli, tmp_path, load_sepia):
    exercise(cli, tmp_path, "--jobs", 2, "--start-method", "spawn")


def test_example_plugin_from_its_source_folder(cli, tmp_path, sepia_from_source):
    exercise(cli, tmp_path, "--jobs", 2, "--start-method", "spawn")
