"""Hostile input: every file found ends ok, skipped or failed with a reason; nothing blocks."""

import os
import re
import socket
import stat
import struct
import zlib

import pytest

from conftest import file_records
from images import photo

LONG_NAME = "x" * 250 + ".jpg"


def bomb_png(width, height):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IEND", b""))


@pytest.fixture
def hostile_tree(tmp_path):
    """A folder of everything that can go wrong, as bytes paths (some names are not UTF-8)."""
    root = tmp_path / "in"
    root.mkdir()
    good = photo(64, 48)
    for name in ["with space.jpg", "new\nline.jpg", "-leading-dash.jpg", LONG_NAME, "album.jpg/inside.jpg"]:
        (root / name).parent.mkdir(exist_ok=True)
        good.save(root / name)
    good.save(os.fsdecode(bytes(root) + b"/bad-\xff-utf8.jpg"), format="JPEG")
    deep = root.joinpath(*["d"] * 60)
    deep.mkdir(parents=True)
    good.save(deep / "deep.jpg")
    whole = (root / "with space.jpg").read_bytes()
    (root / "truncated.jpg").write_bytes(whole[: len(whole) // 3])
    (root / "empty.jpg").write_bytes(b"")
    (root / "text.jpg").write_text("just text")
    (root / "eps.jpg").write_text("%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    (root / "bomb.png").write_bytes(bomb_png(100_000, 100_000))
    os.mkfifo(root / "fifo.jpg")
    (root / "dangling.jpg").symlink_to(root / "nowhere.jpg")
    (root / "loop").symlink_to(root)
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(root / "socket.jpg"))
    try:
        os.mknod(root / "device.jpg", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except (PermissionError, OSError):
        pass  # not allowed here (a container): the other special files still cover it
    yield root
    server.close()


def test_every_file_found_is_accounted_for(hostile_tree, tmp_path, batchproc_process):
    result = batchproc_process("resize", hostile_tree, "--out", tmp_path / "out", "--width", 32,
                               "--jobs", 2, "--log", tmp_path / "log", "--follow-symlinks", timeout=60)
    assert result.exit_code == 1, result.stderr
    records = file_records(tmp_path / "log")
    by_name = {os.path.basename(r["input"]): r for r in records}
    assert len(by_name) == len(records)  # one record per file, none twice

    for name in ["with space.jpg", "new\nline.jpg", "-leading-dash.jpg", LONG_NAME, "inside.jpg",
                 "deep.jpg", "bad-\udcff-utf8.jpg"]:
        assert by_name[name]["status"] == "ok", by_name[name]
    assert (tmp_path / "out/new\nline.jpg").exists() and (tmp_path / "out" / LONG_NAME).exists()
    assert os.path.exists(bytes(tmp_path / "out") + b"/bad-\xff-utf8.jpg")
    assert (tmp_path / "out/album.jpg/inside.jpg").exists()  # a folder named like an image is a folder

    failures = {name: by_name[name]["error"] for name in by_name if by_name[name]["status"] == "failed"}
    assert failures.pop("truncated.jpg") == "truncated image"
    assert failures.pop("bomb.png").startswith("too many pixels")
    for name in ["empty.jpg", "text.jpg", "eps.jpg"]:  # EPS never reaches Ghostscript
        assert failures.pop(name).startswith("not a readable image")
    assert failures == {}

    skips = {name: r["error"] for name, r in by_name.items() if r["status"] == "skipped"}
    assert skips.pop("fifo.jpg") == "not a regular file (fifo)"
    assert skips.pop("socket.jpg") == "not a regular file (socket)"
    assert skips.pop("dangling.jpg") == "dangling symbolic link"
    if "device.jpg" in skips:
        assert skips.pop("device.jpg") == "not a regular file (device)"
    assert "already walked" in skips.pop("loop")

    counts = re.search(r"resize: (\d+) ok, (\d+) skipped.*, (\d+) failed", result.stderr.decode())
    assert sum(map(int, counts.groups())) == len(records)


def test_output_escaping_the_output_folder_through_a_symlink_is_refused(cli, tmp_path):
    (tmp_path / "in/sub").mkdir(parents=True)
    photo(64, 48).save(tmp_path / "in/sub/a.jpg")
    photo(64, 48).save(tmp_path / "in/b.jpg")
    (tmp_path / "out").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out/sub").symlink_to(tmp_path / "elsewhere")
    result = cli("resize", tmp_path / "in", "--out", tmp_path / "out", "--jobs", 1)
    assert result.exit_code == 1
    assert "a.jpg: the output folder leads outside" in result.stderr
    assert list((tmp_path / "elsewhere").iterdir()) == []
    assert (tmp_path / "out/b.jpg").exists()


def test_nothing_in_the_walked_tree_is_imported(cli, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in/evil.py").write_text(f"open({str(tmp_path / 'pwned')!r}, 'w').close()\n")
    photo(64, 48).save(tmp_path / "in/a.jpg")
    assert cli("resize", tmp_path / "in", "--jobs", 1).exit_code == 0
    assert not (tmp_path / "pwned").exists()
