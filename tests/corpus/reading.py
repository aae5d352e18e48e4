"""Reading files back with Pillow and libvips, each in a guarded reader process (memory-limited,
timed), so that a file that kills or hangs a decoder costs only its own reading."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent


READ_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP")  # JPEG opens MPO too
#: Extensions of formats libvips has no loader for (its BMP loader is ImageMagick's, which is
#: not in every build and is untrusted anyway).
VIPS_UNSUPPORTED = (".bmp",)
ORIENTATION = 0x0112
#: A reader process may use this much address space: a file that needs more is unreadable here.
READER_MEMORY_LIMIT = 3 << 30
READER_TIMEOUT = 30.0


def upright(size, orientation):
    return (size[1], size[0]) if orientation in (5, 6, 7, 8) else tuple(size)


def pillow_reading(path) -> dict:
    """Decode every frame of `path` with Pillow, its bomb guard on (as it ships); what it saw."""
    import warnings
    from PIL import Image

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with Image.open(path, formats=READ_FORMATS) as image:
                frames = getattr(image, "n_frames", 1)
                image.load()
                size, mode, fmt = image.size, image.mode, image.format
                try:
                    turn = image.getexif().get(ORIENTATION, 1)
                except Exception:
                    turn = 1
                for index in range(1, frames):
                    image.seek(index)
                    image.load()
    except Exception as error:
        message = f"{type(error).__name__}: {error}".replace(str(path), "FILE")
        return {"ok": False, "error": message.strip()}
    return {"ok": True, "size": upright(size, turn), "frames": frames, "mode": mode, "format": fmt,
            "warnings": sorted({str(w.message) for w in caught})}


def vips_reading(path) -> dict:
    """Decode every page of `path` with libvips (fail_on="error": a truncated or corrupt file
    fails), its untrusted loaders blocked; what it saw. ok is None where it has no loader."""
    import pyvips

    pyvips.block_untrusted_set(True)
    try:
        image = pyvips.Image.new_from_file(str(path), fail_on="error")
        pages = image.get("n-pages") if image.get_typeof("n-pages") else 1
        turn = image.get("orientation") if image.get_typeof("orientation") else 1
        image.avg()
        for page in range(1, pages):
            pyvips.Image.new_from_file(str(path), page=page, fail_on="error").avg()
    except pyvips.Error as error:
        message = " ".join(str(error).split()).replace(str(path), "FILE")
        if "is not a known file format" in message and str(path).lower().endswith(VIPS_UNSUPPORTED):
            return {"ok": None, "error": "libvips has no loader for this format"}
        return {"ok": False, "error": message}
    return {"ok": True, "size": upright((image.width, image.height), turn), "frames": pages,
            "loader": image.get("vips-loader")}


def serve_readings() -> None:
    """A reader process: for each path on stdin, one JSON line per reader on stdout."""
    os.environ.setdefault("VIPS_CONCURRENCY", "1")
    for line in sys.stdin.buffer:
        path = os.fsdecode(line.rstrip(b"\n"))
        for reader, read in (("pillow", pillow_reading), ("vips", vips_reading)):
            print(json.dumps({"path": path, "reader": reader, **read(path)}), flush=True)


def _limit_reader_memory():
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (READER_MEMORY_LIMIT, READER_MEMORY_LIMIT))


def _read_in_child(paths: list[str], readings: dict) -> None:
    """Read `paths` in guarded reader processes, starting a new one when one dies or hangs."""
    pending = list(paths)
    while pending:
        child = subprocess.Popen(
            [sys.executable, "-c", "import corpus; corpus.serve_readings()"], cwd=TESTS,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(TESTS), "VIPS_CONCURRENCY": "1"},
            preexec_fn=_limit_reader_memory)
        threading.Thread(target=_feed, args=(child.stdin, list(pending)), daemon=True).start()
        lines = _Lines(child.stdout.fileno())
        reader, line = "pillow", b""
        while pending:
            line = lines.next(READER_TIMEOUT)
            if not line:
                break
            reading = json.loads(line)
            path = reading.pop("path")
            readings.setdefault(path, {})[reading.pop("reader")] = reading
            if len(readings[path]) == 2:
                pending.pop(0)
                reader = "pillow"
            else:
                reader = "vips"
        if child.poll() is None:
            child.kill()
        code = child.wait()
        child.stdout.close()
        if pending:  # the reader died or hung on pending[0], in `reader`
            current = pending.pop(0)
            why = (f"reader timed out after {READER_TIMEOUT:.0f} s" if line is None
                   else f"reader died (exit {code}) within {READER_MEMORY_LIMIT >> 30} GB")
            entry = readings.setdefault(current, {})
            entry.setdefault("pillow", {"ok": False, "error": why})
            entry.setdefault("vips", {"ok": False, "error": why if reader == "vips" else
                                      "not read: the reader stopped in Pillow first"})


class _Lines:
    """Lines from a pipe, each within a time limit (select on the descriptor, no hidden buffer)."""

    def __init__(self, descriptor):
        self.descriptor, self.buffer = descriptor, b""

    def next(self, seconds) -> bytes | None:
        """The next line; b"" at the end of the stream; None if none came in time."""
        import select

        deadline = time.monotonic() + seconds
        while b"\n" not in self.buffer:
            ready, _, _ = select.select([self.descriptor], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return None
            chunk = os.read(self.descriptor, 1 << 16)
            if not chunk:
                return b""
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line + b"\n"


def _feed(stream, paths):
    try:
        for path in paths:
            stream.write(os.fsencode(path) + b"\n")
        stream.close()
    except (BrokenPipeError, ValueError, OSError):
        pass


def read_back(paths, *, jobs: int = 2) -> dict[str, dict]:
    """Decode every file with Pillow and libvips in reader processes (memory-limited, timed):
    path -> {"pillow": reading, "vips": reading}."""
    paths = [str(path) for path in paths]
    readings: dict[str, dict] = {}
    shares = [paths[index::jobs] for index in range(jobs)]
    threads = [threading.Thread(target=_read_in_child, args=(share, readings)) for share in shares if share]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return readings
