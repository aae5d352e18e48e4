"""Nothing is published unverified: image outputs read back as written (size, frames, mode, and
their pixels where a header proves little), strip's lossless outputs too, compress's decompress."""

import shutil
import subprocess

import pytest
from PIL import Image
from PIL.JpegImagePlugin import JpegImageFile

from batchproc.execution import run_task
from batchproc.image import verify
from batchproc.image.verify import Expected, check_output
from batchproc.task import Task, WorkerSpec
from images import photo

#: Image steps that write something other than what the pipeline says it wrote.
FAULTY_STEPS = '''
import subprocess
from PIL import Image
from batchproc import hookimpl
from batchproc.image import ImageStep


class Faulty(ImageStep):
    """Write a broken output on purpose: truncated, the wrong size, or a TIFF libvips rejects.

    Example: batchproc faulty imgs --fault truncate
    """
    name = "faulty"
    summary = "Write broken outputs (verification drills)."
    output_suffix = "_faulty"

    def __init__(self, fault: str = "truncate"):
        super().__init__(fault=fault)
        self.fault = fault

    def transform(self, picture):
        return picture.map(lambda frame: frame.rotate(180))

    def process(self, source, target):
        data = super().process(source, target)
        if self.fault == "truncate":
            target.write_bytes(target.read_bytes()[:-200])
        elif self.fault == "size":
            Image.open(source).convert("RGB").resize((5, 5)).save(target, format=Image.open(source).format)
        elif self.fault == "planar-tiles":  # a layout Pillow and libtiff read, libvips does not
            plain = target.with_name("plain.tif")
            target.rename(plain)
            subprocess.run(["tiffcp", "-p", "separate", "-t", str(plain), str(target)], check=True)
            plain.unlink()
        return data


@hookimpl
def register_steps(register):
    register(Faulty)
'''


@pytest.fixture
def faulty(tmp_path):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "faulty.py").write_text(FAULTY_STEPS)
    (tmp_path / "imgs").mkdir()
    return folder


@pytest.mark.parametrize("fault, name, reason", [
    ("truncate", "a.jpg", "truncated image"),
    ("truncate", "a.png", "truncated image"),
    ("size", "a.png", "5x5 read back, 60x40 written"),
    pytest.param("planar-tiles", "a.tif", "libvips cannot read it (tiff2vips: tiled separate planes not supported)",
                 marks=pytest.mark.skipif(not shutil.which("tiffcp"), reason="no tiffcp here")),
])
def test_an_output_that_does_not_read_back_fails_its_file(cli, tmp_path, faulty, fault, name, reason):
    photo(60, 40).save(tmp_path / "imgs" / name)
    result = cli("--plugin-dir", faulty, "faulty", tmp_path / "imgs", "--fault", fault, "--jobs", 1)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].endswith(f"{name}: output did not read back: {reason}")
    assert [path for path in (tmp_path / "imgs_faulty").iterdir()
            if not path.name.startswith(".")] == []  # no output, no temporary left


def test_in_place_an_unverified_output_never_replaces_the_original(cli, tmp_path, faulty):
    photo(60, 40).save(tmp_path / "imgs/a.jpg")
    original = (tmp_path / "imgs/a.jpg").read_bytes()
    result = cli("--plugin-dir", faulty, "faulty", tmp_path / "imgs", "--in-place", "--jobs", 1)
    assert result.exit_code == 1 and "output did not read back" in result.stderr
    assert (tmp_path / "imgs/a.jpg").read_bytes() == original
    assert [path.name for path in (tmp_path / "imgs").iterdir() if not path.name.startswith(".")] == ["a.jpg"]


def test_a_jpeg_is_proved_by_a_draft_decode_a_thorough_check_decodes_it_all(tmp_path, monkeypatch):
    photo(800, 600).save(tmp_path / "a.jpg")
    drafts, loads = [], []
    real_draft, real_load = JpegImageFile.draft, JpegImageFile.load
    monkeypatch.setattr(JpegImageFile, "draft", lambda self, mode, size: drafts.append(size) or real_draft(self, mode, size))
    monkeypatch.setattr(JpegImageFile, "load", lambda self: loads.append(self.size) or real_load(self))
    vips_checks = []
    monkeypatch.setattr(verify, "check_with_vips", lambda path, expected: vips_checks.append(path))
    check_output(tmp_path / "a.jpg", Expected("jpeg", (800, 600)), thorough=False, max_pixels=10**9)
    assert drafts == [(100, 75)] and loads == [(100, 75)] and vips_checks == []
    drafts.clear(), loads.clear()
    check_output(tmp_path / "a.jpg", Expected("jpeg", (800, 600)), thorough=True, max_pixels=10**9)
    assert drafts == [] and loads == [(800, 600)] and vips_checks == [tmp_path / "a.jpg"]


@pytest.mark.parametrize("expected, reason", [
    (Expected("png", (60, 40), mode="RGBA"), "mode RGB read back, RGBA written"),
    (Expected("png", (60, 40), count=3), "1 frames read back, 3 written"),
    (Expected("jpeg", (60, 40)), "not a JPEG file"),
])
def test_what_the_header_says_must_be_what_was_written(tmp_path, expected, reason):
    photo(60, 40).save(tmp_path / "a.png")
    with pytest.raises(Exception, match=reason):
        check_output(tmp_path / "a.png", expected, thorough=False, max_pixels=10**9)


def test_strip_verifies_its_lossless_outputs(tmp_path, monkeypatch):
    from batchproc_plugins import strip as strip_module

    photo(200, 100).save(tmp_path / "a.jpg", exif=Image.Exif().tobytes(), comment=b"x")
    real = strip_module.strip_file
    monkeypatch.setattr(strip_module, "strip_file", lambda *a, **k: real(*a, **k)[:-400])
    result = run_task(strip_module.Strip(), Task(1, str(tmp_path / "a.jpg"), (str(tmp_path / "b.jpg"),)),
                      WorkerSpec("strip", {}))
    assert result.status == "failed" and result.error == "output did not read back: truncated image"
    assert not (tmp_path / "b.jpg").exists()


@pytest.mark.parametrize("method", ["gzip", "zstd"])
def test_compress_decompresses_its_output_before_publishing_it(tmp_path, monkeypatch, method):
    from batchproc_plugins import compress

    if method == "zstd":
        pytest.importorskip("zstandard")
    (tmp_path / "a.log").write_bytes(b"a line of log\n" * 5000)
    real_process = compress.Compress.process

    def damaging(self, source, target):
        data = real_process(self, source, target)
        packed = bytearray(target.read_bytes())
        packed[len(packed) // 2] ^= 0xFF  # one flipped byte in the middle of the stream
        target.write_bytes(bytes(packed))
        return data

    monkeypatch.setattr(compress.Compress, "process", damaging)
    step = compress.Compress(method=method, keep=False)
    target = tmp_path / f"a.log{compress.EXTENSIONS[method]}"
    result = run_task(step, Task(1, str(tmp_path / "a.log"), (str(target),)), WorkerSpec("compress", {}))
    assert result.status == "failed" and result.error.startswith(f"output did not read back: {method} cannot decompress it")
    assert (tmp_path / "a.log").exists() and not target.exists()  # --no-keep: the input stays


def test_compress_verifies_a_good_output_quickly(tmp_path):
    from batchproc_plugins.compress import Compress

    (tmp_path / "a.log").write_bytes(b"a line of log\n" * 5000)
    result = run_task(Compress(), Task(1, str(tmp_path / "a.log"), (str(tmp_path / "a.log.gz"),)),
                      WorkerSpec("compress", {}, verify="full"))
    assert result.status == "ok", result.error


@pytest.mark.skipif(not shutil.which("tiffinfo"), reason="no tiffinfo here")
def test_tiff_outputs_are_decoded_in_pillow_and_libvips(cli, tmp_path):
    (tmp_path / "imgs").mkdir()
    photo(60, 40).save(tmp_path / "imgs/a.png")
    result = cli("convert", tmp_path / "imgs", "--format", "tiff", "--jobs", 1)
    assert result.exit_code == 0, result
    assert subprocess.run(["tiffinfo", "-D", tmp_path / "imgs_converted/a.tif"], capture_output=True).returncode == 0
