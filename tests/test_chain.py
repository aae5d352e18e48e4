"""Chains: several image steps on one decode, several outputs from one input."""

import pytest
from PIL import Image
from PIL.JpegImagePlugin import JpegImageFile

from batchproc.errors import UsageError
from images import marked, photo, save_oriented


@pytest.fixture
def imgs(tmp_path):
    (tmp_path / "imgs").mkdir()
    exif = Image.Exif()
    exif[0x010F] = "ACME camera"
    photo(1600, 1200).save(tmp_path / "imgs/a.jpg", quality=95, exif=exif.tobytes(), comment=b"hello")
    return tmp_path / "imgs"


def count_decodes(monkeypatch):
    """Count the JPEG decoders Pillow starts in this process: one per decode of a file."""
    calls = []
    real = Image._getdecoder

    def counting(mode, decoder_name, *args, **kwargs):
        calls.append(decoder_name)
        return real(mode, decoder_name, *args, **kwargs)

    monkeypatch.setattr(Image, "_getdecoder", counting)
    return calls


def test_resize_widths_writes_one_output_per_width(cli, imgs, tmp_path):
    result = cli("resize", imgs, "--widths", "320,640,1280", "--jobs", 1)
    assert result.exit_code == 0, result
    for width in (320, 640, 1280):
        with Image.open(tmp_path / f"imgs_resized/a-{width}.jpg") as out:
            assert out.size == (width, width * 3 // 4)
            assert out.getexif().get(0x010F) == "ACME camera"


def test_several_outputs_come_from_one_decode_drafted_for_the_largest(imgs, tmp_path, monkeypatch):
    from batchproc_plugins.resize import Resize

    decodes = count_decodes(monkeypatch)
    drafts = []
    real_draft = JpegImageFile.draft
    monkeypatch.setattr(JpegImageFile, "draft",
                        lambda self, mode, size: drafts.append(size) or real_draft(self, mode, size))
    step = Resize(widths="200,400")
    assert step.output_names("a.jpg") == ["a-200.jpg", "a-400.jpg"]
    step.process(imgs / "a.jpg", [tmp_path / "a-200.jpg", tmp_path / "a-400.jpg"])
    assert decodes == ["jpeg"] and drafts == [(400, 300)]
    assert Image.open(tmp_path / "a-200.jpg").size == (200, 150)


def test_chain_runs_every_step_on_one_decode(imgs, monkeypatch, tmp_path):
    from batchproc_plugins.chain import Chain

    decodes = count_decodes(monkeypatch)
    step = Chain(steps="resize --max 800 | strip | convert --format webp --quality 70")
    assert step.output_names("a.jpg") == ["a.webp"]
    step.process(imgs / "a.jpg", tmp_path / "a.webp")
    assert decodes == ["jpeg"]
    with Image.open(tmp_path / "a.webp") as out:
        assert out.format == "WEBP" and out.size == (800, 600)
        assert "exif" not in out.info


def test_chain_command_with_several_outputs_and_a_format_change(cli, imgs, tmp_path):
    result = cli("chain", imgs, "--steps", "resize --widths 320,640 | strip | convert --format webp",
                 "--jobs", 1)
    assert result.exit_code == 0, result
    assert sorted(p.name for p in (tmp_path / "imgs_processed").glob("*.webp")) == ["a-320.webp", "a-640.webp"]
    with Image.open(tmp_path / "imgs_processed/a-320.webp") as out:
        assert out.size == (320, 240) and not out.getexif()
    assert (tmp_path / "imgs_processed/a-640.webp").read_bytes().find(b"hello") == -1


def test_chain_applies_orientation_once(cli, tmp_path):
    (tmp_path / "imgs").mkdir()
    save_oriented(marked(120, 80), tmp_path / "imgs/a.jpg", 6, quality=95)
    result = cli("chain", tmp_path / "imgs", "--steps", "strip | thumbnail --size 60x40 | convert --format png",
                 "--jobs", 1)
    assert result.exit_code == 0, result
    with Image.open(tmp_path / "imgs_processed/a.png") as out:
        assert out.size == (60, 40)
        red = out.convert("RGB").getpixel((2, 2))
    assert red[0] > 200 and red[2] < 60, red


def test_last_convert_decides_format_and_quality(imgs, tmp_path):
    from batchproc_plugins.chain import Chain

    step = Chain(steps="convert --format png | resize --width 100 | convert --format jpeg -q 20")
    assert step.output_names("a.jpg") == ["a.jpg"]
    step.process(imgs / "a.jpg", tmp_path / "low.jpg")
    Chain(steps="resize --width 100 | convert --format jpeg -q 95").process(imgs / "a.jpg", tmp_path / "high.jpg")
    assert (tmp_path / "low.jpg").stat().st_size < (tmp_path / "high.jpg").stat().st_size / 2


def test_build_chain_takes_step_specs_like_a_config_file(imgs, tmp_path):
    from batchproc_plugins.chain import build_chain

    step = build_chain([{"step": "resize", "max": 400, "enlarge": False, "widths": None},
                        {"step": "strip", "keep_icc": True},
                        {"step": "convert", "format": "webp", "lossless": True}])
    assert step.settings["steps"] == "resize --max 400 | strip --keep-icc | convert --format webp --lossless"
    step.process(imgs / "a.jpg", tmp_path / "a.webp")
    assert Image.open(tmp_path / "a.webp").size == (400, 300)
    widths = build_chain([{"step": "resize", "widths": [100, 200]}])
    assert widths.output_names("x.png") == ["x-100.png", "x-200.png"]


@pytest.mark.parametrize("steps, message", [
    ("resize --max 10 | checksum", "'checksum' is not an image step; these can be chained: chain"[:40]),
    ("resize --maxx 10", "--steps resize: No such option"),
    ("resize --max 10 | | strip", "expected steps joined by single |"),
    ("convert --format gif", "--steps convert: Invalid value for '--format'"),
    ("resize --size 10 --max 10", "--steps resize: give only one of --size, --max"),
    ("resize 'unclosed", "No closing quotation"),
])
def test_bad_chains_are_usage_errors(cli, imgs, steps, message):
    result = cli("chain", imgs, "--steps", steps)
    assert result.exit_code == 2
    assert message in result.stderr


def test_build_chain_rejects_specs_without_a_step():
    from batchproc_plugins.chain import build_chain

    with pytest.raises(UsageError, match='needs a "step" name'):
        build_chain([{"max": 3}])
