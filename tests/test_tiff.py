"""TIFF of every common kind: read, resized, written so that Pillow, libtiff and libvips all read
the output, kept byte for byte when nothing changes, pages kept on their own geometry."""

import json
import shutil
import subprocess
import sys

import pytest
from PIL import Image, TiffImagePlugin

from conftest import file_records
from images import photo
from vips_reader import vips_read, vips_write

SIZE = (48, 32)
TIFFCP = shutil.which("tiffcp")
TIFFINFO = shutil.which("tiffinfo")
needs_libtiff_tools = pytest.mark.skipif(not (TIFFCP and TIFFINFO), reason="libtiff-tools is not "
                                         "installed (apt install libtiff-tools)")


def pillow_kind(mode, compression):
    def write(path):
        image = photo(*SIZE)
        if mode == "I;16":
            image = image.convert("L").convert("I").point(lambda v: v * 257).convert("I;16")
        elif mode == "I":
            image = image.convert("L").convert("I").point(lambda v: v * 1000)
        elif mode == "F":
            image = image.convert("L").convert("F").point(lambda v: v / 255)
        else:
            image = image.convert(mode)
        image.save(path, compression=compression)
    return write


def vips_kind(**options):
    def write(path):
        source = path.with_suffix(".source.png")
        photo(*SIZE).save(source)
        vips_write(source, path, **options)
        source.unlink()
    return write


def tiffcp_kind(*arguments):
    def write(path):
        if not TIFFCP:
            pytest.skip("tiffcp is not installed (apt install libtiff-tools)")
        source = path.with_suffix(".source.tif")
        photo(*SIZE).convert("RGBA" if "rgba" in path.name else "RGB").save(source)
        subprocess.run([TIFFCP, *arguments, str(source), str(path)], check=True, capture_output=True)
        source.unlink()
    return write


KINDS = {
    **{f"pillow-{mode.replace(';', '')}-{compression}": pillow_kind(mode, compression) for mode, compression in [
        ("1", "group4"), ("1", "group3"), ("1", "raw"), ("L", "tiff_lzw"), ("L", "jpeg"),
        ("LA", "tiff_adobe_deflate"), ("P", "packbits"), ("RGB", "raw"), ("RGB", "jpeg"),
        ("RGB", "packbits"), ("RGBA", "tiff_lzw"), ("CMYK", "raw"), ("CMYK", "jpeg"),
        ("I;16", "tiff_adobe_deflate"), ("I", "raw"), ("F", "raw"), ("LAB", "raw"),
        ("YCbCr", "jpeg")]},
    "vips-rgb-jpeg-tiled": vips_kind(compression="jpeg", tile=True, tile_width=16, tile_height=16),
    "vips-rgb-lzw-predictor": vips_kind(compression="lzw", predictor="horizontal"),
    "vips-rgb16-deflate": vips_kind(cast="ushort", compression="deflate"),
    "vips-grey-float": vips_kind(colourspace="b-w", cast="float"),
    "vips-lab-float": vips_kind(colourspace="lab"),
    "vips-cmyk16-lzw": vips_kind(colourspace="cmyk", cast="ushort", compression="lzw"),
    "vips-bigtiff": vips_kind(bigtiff=True, compression="deflate"),
    "tiffcp-planar-lzw": tiffcp_kind("-p", "separate", "-c", "lzw"),
    "tiffcp-planar-tiled": tiffcp_kind("-p", "separate", "-t", "-w", "16", "-l", "16"),
    "tiffcp-planar-rgba": tiffcp_kind("-p", "separate"),
    "tiffcp-ycbcr-jpeg": tiffcp_kind("-c", "jpeg", "-r", "16"),
    "tiffcp-tiled-bigtiff": tiffcp_kind("-t", "-8"),
}


def tiffinfo_error(path):
    """What libtiff's tiffinfo (reading every strip) or tiffcp (copying the file) says is wrong
    with a file, or None."""
    for command in ([TIFFINFO, "-D", str(path)], [TIFFCP, str(path), str(path) + ".copy.tif"]):
        completed = subprocess.run(command, capture_output=True, text=True)
        errors = [line for line in completed.stderr.splitlines() if "Error" in line or "error" in line]
        if completed.returncode or errors:
            return errors[0] if errors else f"{command[0]} exited {completed.returncode}"
    return None


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    """Every kind written once, resized once, resized in place once (to a box they fit)."""
    root = tmp_path_factory.mktemp("tiff")
    (root / "in").mkdir()
    made = {}
    for kind, write in KINDS.items():
        try:
            write(root / "in" / f"{kind}.tif")
            made[kind] = root / "in" / f"{kind}.tif"
        except pytest.skip.Exception:
            pass
    shutil.copytree(root / "in", root / "inplace")
    before = {kind: (root / "inplace" / path.name).read_bytes() for kind, path in made.items()}
    runs = {}
    for name, arguments in {"resized": ["resize", root / "in", "--out", root / "resized", "--width", 24],
                            "inplace": ["resize", root / "inplace", "--in-place"]}.items():
        completed = subprocess.run([sys.executable, "-m", "batchproc", *map(str, arguments),
                                    "--jobs", "2", "--json"],
                                   capture_output=True, text=True, timeout=300)
        runs[name] = {record["input"].rsplit("/", 1)[1][:-4]: record
                      for record in map(json.loads, completed.stdout.splitlines())}
        runs[name + ".stderr"] = completed.stderr
    outputs = [root / "resized" / f"{kind}.tif" for kind in made] + \
              [root / "inplace" / f"{kind}.tif" for kind in made]
    return {"made": made, "runs": runs, "before": before, "root": root,
            "vips": vips_read(*[path for path in outputs if path.exists()])}


@pytest.mark.parametrize("kind", KINDS)
def test_resized_output_reads_back_everywhere(matrix, kind):
    if kind not in matrix["made"]:
        pytest.skip(f"{kind} could not be written here")
    record = matrix["runs"]["resized"][kind]
    assert record["status"] == "ok", record
    output = matrix["root"] / "resized" / f"{kind}.tif"
    with Image.open(output) as image:
        assert image.size == (24, 16)
        image.load()
    assert matrix["vips"][str(output)] == {"ok": True, "size": [24, 16], "pages": 1}
    if TIFFINFO and TIFFCP:
        assert tiffinfo_error(output) is None


@pytest.mark.parametrize("kind", KINDS)
def test_in_place_to_a_box_it_fits_leaves_every_original_readable(matrix, kind):
    if kind not in matrix["made"]:
        pytest.skip(f"{kind} could not be written here")
    record = matrix["runs"]["inplace"][kind]
    path = matrix["root"] / "inplace" / f"{kind}.tif"
    if record["status"] == "skipped":  # nothing needed doing: the file is untouched
        assert record["error"] == "already fits"
        assert path.read_bytes() == matrix["before"][kind]
    else:  # a file libvips could not read as it was is written again, in a form it reads
        assert record["status"] == "ok", record
    with Image.open(path) as image:
        assert image.size == SIZE
        image.load()
    assert matrix["vips"][str(path)]["ok"], matrix["vips"][str(path)]


def test_the_library_warnings_stay_in_the_records(matrix):
    for name in ("resized", "inplace"):
        stderr = matrix["runs"][name + ".stderr"]
        assert [line for line in stderr.splitlines() if not line.startswith("resize:")] == []


def test_structure_tags_are_never_carried_descriptive_ones_are(tmp_path, cli):
    (tmp_path / "in").mkdir()
    tags = TiffImagePlugin.ImageFileDirectory_v2()
    tags[315] = "A. Artist"                       # descriptive: kept
    tags[33432] = "(c) batchproc"
    tags[305] = "Some editor"
    tags[34377] = b"8BIM\x04\x04\x00\x00\x00\x00\x00\x00"  # Photoshop resources: kept in TIFF
    tags[700] = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>XMP</x:xmpmeta>"
    photo(*SIZE).save(tmp_path / "in/a.tif", tiffinfo=tags, compression="jpeg", dpi=(300, 300))
    result = cli("resize", tmp_path / "in", "--out", tmp_path / "out", "--width", 24, "--jobs", 1)
    assert result.exit_code == 0, result
    with Image.open(tmp_path / "out/a.tif") as out:
        assert out.size == (24, 16) and out.mode == "RGB"
        assert out.tag_v2[256] == 24 and out.tag_v2[257] == 16
        assert out.tag_v2[259] == 8  # deflate, not the input's JPEG compression
        assert out.tag_v2[315] == "A. Artist" and out.tag_v2[33432] == "(c) batchproc"
        assert out.tag_v2[34377].startswith(b"8BIM") and b"XMP" in out.info["xmp"]
        assert round(out.info["dpi"][0]) == 300


def test_pages_keep_their_own_sizes_and_modes(tmp_path, cli):
    (tmp_path / "in").mkdir()
    pages = [photo(80, 40), photo(40, 80, seed=1).convert("L"), photo(60, 60, seed=2).convert("1")]
    pages[0].save(tmp_path / "in/a.tif", save_all=True, append_images=pages[1:])
    result = cli("resize", tmp_path / "in", "--out", tmp_path / "out", "--max", 20, "--jobs", 1, "--json")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["pages"] == 3
    with Image.open(tmp_path / "out/a.tif") as out:
        sizes = []
        for index in range(out.n_frames):
            out.seek(index)
            out.load()
            sizes.append(out.size)
    assert sizes == [(20, 10), (10, 20), (20, 20)]
    assert vips_read(tmp_path / "out/a.tif")[str(tmp_path / "out/a.tif")]["pages"] == 3


def test_pages_to_another_format_keep_the_first_and_say_so(tmp_path, cli):
    (tmp_path / "in").mkdir()
    photo(80, 40).save(tmp_path / "in/a.tif", save_all=True, append_images=[photo(30, 70, seed=1)])
    result = cli("convert", tmp_path / "in", "--format", "webp", "--jobs", 1, "--log", tmp_path / "log")
    assert result.exit_code == 0, result
    [record] = file_records(tmp_path / "log")
    assert record["warnings"] == ["kept the first of 2 pages: WEBP holds one picture"]
    with Image.open(tmp_path / "in_converted/a.webp") as out:
        assert out.size == (80, 40) and getattr(out, "n_frames", 1) == 1


def test_a_tiff_that_already_fits_is_copied_byte_for_byte(tmp_path, cli):
    (tmp_path / "in").mkdir()
    photo(*SIZE).save(tmp_path / "in/a.tif", compression="tiff_lzw", save_all=True,
                      append_images=[photo(20, 20, seed=1)])
    result = cli("resize", tmp_path / "in", "--out", tmp_path / "out", "--jobs", 1)
    assert result.exit_code == 0, result
    assert (tmp_path / "out/a.tif").read_bytes() == (tmp_path / "in/a.tif").read_bytes()


@needs_libtiff_tools
def test_a_fax_shrinks_to_grey_that_every_reader_takes(tmp_path, cli):
    (tmp_path / "in").mkdir()
    photo(*SIZE).convert("1").save(tmp_path / "in/fax.tif", compression="group4")
    result = cli("resize", tmp_path / "in", "--out", tmp_path / "out", "--width", 24, "--jobs", 1)
    assert result.exit_code == 0, result
    assert tiffinfo_error(tmp_path / "out/fax.tif") is None
    with Image.open(tmp_path / "out/fax.tif") as out:
        assert out.size == (24, 16) and out.mode == "L"


@pytest.mark.parametrize("name, make, reason", [
    ("twelve.tif", "12", "unsupported TIFF: 12-bit RGB, no compression"),
    ("cut.tif", "cut", "truncated image"),
])
def test_a_tiff_nothing_reads_fails_with_what_it_is(tmp_path, cli, name, make, reason):
    (tmp_path / "in").mkdir()
    photo(*SIZE).save(tmp_path / "in" / name)
    data = (tmp_path / "in" / name).read_bytes()
    if make == "12":  # the same file, declaring 12 bits per sample: nothing decodes that
        data = _with_bits(data, 12)
    else:
        data = data[: len(data) // 2]
    (tmp_path / "in" / name).write_bytes(data)
    result = cli("resize", tmp_path / "in", "--out", tmp_path / "out", "--width", 24, "--jobs", 1)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].endswith(f"{name}: {reason}")


def _with_bits(data: bytes, bits: int) -> bytes:
    """A little-endian TIFF whose BitsPerSample values (three SHORTs) all read `bits`."""
    import struct

    offset = struct.unpack_from("<I", data, 4)[0]
    count = struct.unpack_from("<H", data, offset)[0]
    patched = bytearray(data)
    for index in range(count):
        entry = offset + 2 + 12 * index
        tag, kind, number, value = struct.unpack_from("<HHII", data, entry)
        if tag == 258:
            for sample in range(number):
                struct.pack_into("<H", patched, value + 2 * sample, bits)
    return bytes(patched)
