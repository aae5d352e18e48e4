"""Metadata travels, structure never: EXIF read as far as it can be, profiles only onto the
colours they describe, PNG text chunks Pillow refuses dropped instead of failing the picture."""

import struct
import zlib

import pytest
from PIL import Image, ImageCms

from batchproc.image import exif
from conftest import file_records
from images import photo

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def camera_exif():
    tags = Image.Exif()
    tags[0x010F] = "ACME"
    tags[0x0110] = "Model X camera"
    tags[0x0112] = 6
    tags.get_ifd(0x8769)[0x9003] = "2020:01:01 00:00:00"
    return bytearray(tags.tobytes())


def point_outside(data: bytearray, tag: int, kind: int) -> bytearray:
    """The EXIF block with one entry's value (or directory) offset pointing past its end."""
    order = ">" if data[6:8] == b"MM" else "<"
    entry = data.find(struct.pack(order + "HH", tag, kind), 8)
    struct.pack_into(order + "I", data, entry + 8, 0x7FFFFFF0)
    return data


@pytest.mark.parametrize("damage, lost, kept", [
    (lambda data: point_outside(data, 0x0110, 2), ["Model"], {0x010F: "ACME"}),
    (lambda data: point_outside(data, 0x8769, 4), ["ExifOffset"], {0x010F: "ACME", 0x0110: "Model X camera"}),
    (lambda data: data[:40], ["Make", "Model", "2 entries past the end"], {}),
])
def test_exif_with_bad_offsets_keeps_what_can_be_read(damage, lost, kept):
    repaired, dropped = exif.repair(bytes(damage(camera_exif())))
    assert dropped == lost
    tags = Image.Exif()
    tags.load(repaired)
    assert {tag: tags[tag] for tag in kept} == kept


def test_a_picture_with_bad_exif_is_resized_and_says_what_was_dropped(cli, tmp_path):
    (tmp_path / "in").mkdir()
    photo(120, 80).save(tmp_path / "in/a.jpg", exif=bytes(point_outside(camera_exif(), 0x0110, 2)))
    result = cli("resize", tmp_path / "in", "--width", 60, "--engine", "pillow", "--jobs", 1,
                 "--log", tmp_path / "log")
    assert result.exit_code == 0, result
    [record] = file_records(tmp_path / "log")
    assert "EXIF: dropped what could not be read (Model)" in record["warnings"]
    with Image.open(tmp_path / "in_resized/a.jpg") as out:
        assert out.size == (60, 90)  # orientation 6 still applied: read past the bad entry
        assert out.getexif()[0x010F] == "ACME" and out.getexif()[0x0112] == 1


def test_a_profile_only_goes_onto_the_colours_it_describes(cli, tmp_path):
    (tmp_path / "in").mkdir()
    cmyk = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))  # stands for a CMYK profile
    data = bytearray(cmyk.tobytes())
    data[16:20] = b"CMYK"
    photo(80, 40).convert("CMYK").save(tmp_path / "in/a.jpg", icc_profile=bytes(data))
    photo(80, 40).convert("L").save(tmp_path / "in/grey.png", icc_profile=SRGB)
    result = cli("resize", tmp_path / "in", "--width", 40, "--jobs", 1)
    assert result.exit_code == 0, result
    for name in ("a.jpg", "grey.png"):
        with Image.open(tmp_path / "in_resized" / name) as out:
            assert "icc_profile" not in out.info, name  # never a CMYK profile on RGB pixels


def png_with(chunk_type: bytes, payload: bytes) -> bytes:
    import io

    buffer = io.BytesIO()
    photo(60, 40).save(buffer, format="PNG")
    data = buffer.getvalue()
    chunk = struct.pack(">I", len(payload)) + chunk_type + payload + struct.pack(">I", zlib.crc32(chunk_type + payload))
    return data[:33] + chunk + data[33:]  # right after IHDR


@pytest.mark.parametrize("chunk_type, payload, what", [
    (b"zTXt", b"Comment\x00\x00" + zlib.compress(b"A" * 3_000_000, 9), "an oversized zTXt"),
    (b"zTXt", b"Comment\x00\x00not zlib at all", "a malformed zTXt"),
    (b"iTXt", b"XML:com.adobe.xmp\x00\x01\x00\x00\x00not zlib", "a malformed iTXt"),
])
@pytest.mark.parametrize("step", [("resize", "--width", "30", "--engine", "pillow"), ("resize",),
                                  ("convert", "--format", "png"), ("strip",)], ids=" ".join)
def test_a_png_text_chunk_pillow_refuses_is_dropped_not_the_picture(cli, tmp_path, chunk_type, payload, what, step):
    (tmp_path / "in").mkdir()
    (tmp_path / "in/a.png").write_bytes(png_with(chunk_type, payload))
    result = cli(step[0], tmp_path / "in", *step[1:], "--out", tmp_path / "out", "--jobs", 1,
                 "--log", tmp_path / "log")
    assert result.exit_code == 0, result
    [record] = file_records(tmp_path / "log")
    assert record["status"] == "ok"
    if step[0] != "strip":  # strip drops every text chunk anyway
        assert f"dropped {what} text chunk" in record["warnings"]
    with Image.open(tmp_path / "out/a.png") as out:  # plain Pillow reads the output
        out.load()
        assert out.size == ((30, 20) if "--width" in step else (60, 40))


def test_the_libvips_engine_leaves_text_chunks_behind_too(cli, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in/a.png").write_bytes(png_with(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"A" * 3_000_000, 9)))
    result = cli("resize", tmp_path / "in", "--width", 30, "--out", tmp_path / "out", "--jobs", 1)
    assert result.exit_code == 0, result
    with Image.open(tmp_path / "out/a.png") as out:
        out.load()
        assert out.size == (30, 20) and b"zTXt" not in (tmp_path / "out/a.png").read_bytes()


def test_a_png_that_only_had_a_bad_chunk_keeps_its_pixels_byte_for_byte(cli, tmp_path):
    (tmp_path / "in").mkdir()
    payload = b"Comment\x00\x00" + zlib.compress(b"A" * 3_000_000, 9)
    data = png_with(b"zTXt", payload)
    (tmp_path / "in/a.png").write_bytes(data)
    assert cli("resize", tmp_path / "in", "--out", tmp_path / "out", "--jobs", 1).exit_code == 0
    # The input less that one chunk: nothing re-encoded.
    assert (tmp_path / "out/a.png").read_bytes() == data[:33] + data[33 + 12 + len(payload):]


def test_resolution_and_xmp_travel(cli, tmp_path):
    (tmp_path / "in").mkdir()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">batchproc-xmp</x:xmpmeta>'
    photo(120, 80).save(tmp_path / "in/a.jpg", dpi=(300, 300), xmp=xmp)
    result = cli("resize", tmp_path / "in", "--width", 60, "--engine", "pillow", "--format", "png", "--jobs", 1)
    assert result.exit_code == 0, result
    with Image.open(tmp_path / "in_resized/a.png") as out:
        kept = out.info["xmp"]
        assert round(out.info["dpi"][0]) == 300
        assert b"batchproc-xmp" in (kept.encode() if isinstance(kept, str) else kept)
