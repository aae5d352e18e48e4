"""Errors read as reasons: every failure in the image path is one line in words, never a
library's exception class or its internal message."""

import io
import json
import re
import struct

import pytest

from images import photo

IN_WORDS = re.compile(r"[a-z][a-zA-Z0-9 ,.'()/:-]*")
NEVER = ("Error", "Traceback", "unpack", "struct", "buffer", "Missing dimensions", "dictionary",
         "PngImagePlugin", "decoder error", "encoder error", "unable to call")


def encoded(fmt, **options):
    buffer = io.BytesIO()
    photo(120, 80).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def tiff_without(tag):
    """A TIFF whose first directory lacks `tag` (256: its width)."""
    data = bytearray(encoded("TIFF"))
    offset = struct.unpack_from("<I", data, 4)[0]
    for index in range(struct.unpack_from("<H", data, offset)[0]):
        entry = offset + 2 + 12 * index
        if struct.unpack_from("<H", data, entry)[0] == tag:
            struct.pack_into("<H", data, entry, 65000)  # renamed: an unknown private tag
    return bytes(data)


CASES = {
    "cut-jpeg.jpg": (lambda: encoded("JPEG")[:900], "truncated image"),
    "cut-png.png": (lambda: encoded("PNG")[:-300], "truncated image"),
    "cut-webp.webp": (lambda: encoded("WEBP")[:300], None),
    "cut-gif.gif": (lambda: encoded("GIF")[:-500], None),
    "cut-tiff.tif": (lambda: encoded("TIFF")[:5000], "truncated image"),
    "empty.png": (lambda: b"", "not a readable image (expected JPEG, PNG, WebP, GIF, TIFF or BMP)"),
    "text.tif": (lambda: b"plain words", "not a readable image (expected JPEG, PNG, WebP, GIF, TIFF or BMP)"),
    "nowidth.tif": (lambda: tiff_without(256), "corrupt image (its TIFF directory gives no width or height)"),
    "header.tif": (lambda: b"II*\x00\xff\xff\xff\x00", "truncated image"),
    "badcrc.png": (lambda: encoded("PNG")[:-20] + b"\x00" * 8 + encoded("PNG")[-12:], None),
}


@pytest.mark.parametrize("step", [("resize", "--width", "60"), ("resize", "--engine", "pillow"),
                                  ("thumbnail",), ("convert", "--format", "webp"), ("strip",)],
                         ids=" ".join)
def test_every_failure_is_one_line_in_words(cli, tmp_path, step):
    (tmp_path / "in").mkdir()
    for name, (make, _) in CASES.items():
        (tmp_path / "in" / name).write_bytes(make())
    result = cli(step[0], tmp_path / "in", *step[1:], "--out", tmp_path / "out", "--jobs", 2, "--json")
    records = {json.loads(line)["input"].rsplit("/", 1)[1]: json.loads(line) for line in result.stdout.splitlines()}
    for name, (_, reason) in CASES.items():
        record = records[name]
        if record["status"] == "ok":  # what a decoder reads of a damaged file, it may keep
            assert reason is None, (name, record)
            continue
        error = record["error"]
        assert IN_WORDS.fullmatch(error) and not any(word in error for word in NEVER), (name, error)
        if reason and not (step[0] == "strip" and name.startswith("cut-")):
            assert error == reason, (name, error)
    assert "Traceback" not in result.stderr
