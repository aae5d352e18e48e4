"""A broad corpus of generated images, and the means to judge batchproc on it.

`build_corpus(folder)` writes some two hundred small images: the TIFF matrix (strip or tiled,
chunky or planar, every common compression, bit depth and colour space, BigTIFF, multi-page),
every PNG colour type and bit depth, JPEG, GIF, WebP and BMP variants, and crafted or broken
files (truncated, mislabelled, bombs). Pillow, pyvips, libtiff's tiffcp, ImageMagick and
jpegtran write them; a case whose tool is missing comes back with `missing` set and no file.
Nothing is downloaded and the same folder is written every time.

The rest of the module runs batchproc's image steps over a corpus (`run_step`, under a watch
on the memory of its whole process tree), reads every output back with Pillow and libvips in
guarded reader processes (`read_back`), and turns a file's record and reading into a verdict
(`verdict`). tests/test_corpus.py and bench/trust_table.py both use it.

The cases themselves are in this package's other modules: `cases` (Case, CorpusFile, the
registry), `pictures`, `byte_writers`, one `<format>_cases` module per format (TIFF's
hand-made layouts in `tiff_layouts`) and `hostile_cases`.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import (bmp_cases, gif_cases, hostile_cases, jpeg_cases, png_cases, tiff_cases,
               webp_cases)
from .cases import CASES, EXTENSIONS, Case, CorpusFile  # noqa: F401  (Case: re-exported)

TESTS = Path(__file__).resolve().parent.parent


#: Where each external tool comes from on Debian, for the skip reasons.
TOOL_PACKAGES = {"tiffcp": "libtiff-tools", "convert": "imagemagick", "gm": "graphicsmagick",
                 "jpegtran": "libjpeg-turbo-progs"}


def missing_tool(tools) -> str | None:
    """The reason a case cannot be written here, naming the first tool not installed."""
    for tool in tools:
        if tool == "pyvips":
            try:
                importlib.import_module("pyvips")
            except (ImportError, OSError):
                return "pyvips is not installed (pip install pyvips)"
        elif shutil.which(tool) is None:
            return f"{tool} is not installed (Debian package {TOOL_PACKAGES.get(tool, tool)})"
    return None


def build_corpus(folder) -> list[CorpusFile]:
    """Write every case into `folder` (one subfolder per format); return them all, in order."""
    folder = Path(folder)
    files = []
    with tempfile.TemporaryDirectory(prefix="corpus-scratch-") as scratch:
        for case in CASES:
            reason = missing_tool(case.tools)
            path = None
            if reason is None:
                path = folder / (case.kind + case.extension)
                path.parent.mkdir(parents=True, exist_ok=True)
                work = Path(scratch) / case.kind.replace("/", "_")
                work.mkdir()
                try:
                    case.write(path, work)
                except Exception as error:
                    raise RuntimeError(f"corpus case {case.kind} could not be written: {error}") from error
            files.append(CorpusFile(case.kind, path, case.size, case.frames, case.hostile,
                                    case.memory_bomb, reason))
    return files


def kinds() -> list[str]:
    """Every kind, without writing anything (for test parametrisation)."""
    return [case.kind for case in CASES]


# The order of CASES, and so of the corpus, is the order of these calls.
tiff_cases.add_tiff_cases()
png_cases.add_png_cases()
jpeg_cases.add_jpeg_cases()
gif_cases.add_gif_cases()
webp_cases.add_webp_cases()
bmp_cases.add_bmp_cases()
hostile_cases.add_hostile_cases()


# --- running batchproc over a corpus ---------------------------------------------------------

def fit(size, box_w, box_h):
    """`size` shrunk to fit inside the box, keeping its shape (never enlarged)."""
    width, height = size
    if width <= box_w and height <= box_h:
        return width, height
    factor = min(box_w / width, box_h / height)
    return max(1, round(width * factor)), max(1, round(height * factor))


def square(side):
    """thumbnail --size N: the largest centred square, shrunk to N (never enlarged)."""
    return lambda size: (min(side, *size),) * 2


@dataclass(frozen=True)
class StepCommand:
    """An image step as a user types it, and what its output should look like."""

    #: Short id for test names and table columns.
    name: str
    argv: tuple[str, ...]
    #: The upright size of the output's first frame, from the input's.
    expected_size: Callable[[tuple[int, int]], tuple[int, int]]
    #: The output format the step asks for (an EXTENSIONS key), or None: the input's own.
    output_format: str | None = None


STEPS = [
    StepCommand("resize-24x24", ("resize", "--size", "24x24"), lambda size: fit(size, 24, 24)),
    StepCommand("resize-defaults", ("resize",), lambda size: fit(size, 1600, 1600)),
    StepCommand("thumbnail-16", ("thumbnail", "--size", "16"), square(16)),
    StepCommand("convert-png", ("convert", "--format", "png"), lambda size: size, "png"),
    StepCommand("convert-webp", ("convert", "--format", "webp"), lambda size: size, "webp"),
    StepCommand("convert-tiff", ("convert", "--format", "tiff"), lambda size: size, "tiff"),
    StepCommand("strip", ("strip",), lambda size: size),
    StepCommand("chain-resize-jpeg", ("chain", "--steps", "resize --max 20 | convert --format jpeg"),
                lambda size: fit(size, 20, 20), "jpeg"),
]
STEPS_BY_NAME = {step.name: step for step in STEPS}
#: In-place drills: a copy of the corpus replaced by its own outputs.
IN_PLACE = {"in-place-resize-24x24": ("resize", "--in-place", "--size", "24x24"),
            "in-place-resize-defaults": ("resize", "--in-place")}
#: What Pillow may call a file with each extension.
FORMAT_NAMES = {".jpg": {"JPEG", "MPO"}, ".png": {"PNG"}, ".gif": {"GIF"}, ".webp": {"WEBP"},
                ".tif": {"TIFF"}, ".bmp": {"BMP"}}
#: Above this, the process tree of a batchproc run is stopped: no corpus file needs it.
RUN_MEMORY_LIMIT = 3 << 30


@dataclass
class Watched:
    """A finished (or stopped) process tree: its output, time and peak memory."""

    returncode: int | None
    stdout: bytes
    stderr: bytes
    seconds: float
    #: Peak of the sum of VmHWM over the processes of the session alive at each poll: an upper
    #: bound of the tree's resident memory at any moment (no process's peak is missed).
    peak_bytes: int
    #: Why it was stopped ("used more than 1.0 GB", "still running after 60 s"), or None.
    stopped: str | None = None


def _session_members(session: int) -> list[int]:
    members = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == session:  # state ppid pgrp session...
                members.append(int(name))
    return members


def _high_water_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_watched(argv, *, limit_bytes: int, timeout: float, env=None, cwd=None,
                interval: float = 0.01) -> Watched:
    """Run `argv` in a session of its own and watch the memory of every process in it
    (workers included), stopping the whole session past `limit_bytes` or `timeout` seconds."""
    started = time.monotonic()
    process = subprocess.Popen([str(a) for a in argv], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                               start_new_session=True)
    streams = {}

    def drain(name, stream):
        streams[name] = stream.read()
    readers = [threading.Thread(target=drain, args=(name, stream), daemon=True)
               for name, stream in (("stdout", process.stdout), ("stderr", process.stderr))]
    for reader in readers:
        reader.start()
    peak_kb, stopped = 0, None
    while process.poll() is None:
        members = _session_members(process.pid)
        peak_kb = max(peak_kb, sum(_high_water_kb(pid) for pid in members))
        elapsed = time.monotonic() - started
        if peak_kb * 1024 > limit_bytes:
            stopped = f"used more than {limit_bytes / (1 << 30):.1f} GB"
        elif elapsed > timeout:
            stopped = f"still running after {timeout:.0f} s"
        if stopped:
            for pid in members:  # every process of the session we started, by its id
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            break
        time.sleep(interval)
    process.wait()
    seconds = time.monotonic() - started
    for member in _session_members(process.pid):  # workers that outlived their parent
        try:
            os.kill(member, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for reader in readers:
        reader.join()
    return Watched(process.returncode, streams.get("stdout", b""), streams.get("stderr", b""),
                   seconds, peak_kb * 1024, stopped)


def batchproc_argv(*arguments) -> list[str]:
    """batchproc as a user runs it: the installed package's command line, in a new process."""
    return [sys.executable, "-m", "batchproc", *map(str, arguments)]


@dataclass
class StepRun:
    """One batchproc run over a folder: a record per input file, and how the run went."""

    argv: list[str]
    watched: Watched
    #: input path -> its JSON record.
    records: dict[str, dict] = field(default_factory=dict)
    #: stdout lines that were not JSON records.
    stray_lines: list[str] = field(default_factory=list)


def run_batchproc(arguments, *, limit_bytes=RUN_MEMORY_LIMIT, timeout=600.0, env=None) -> StepRun:
    """Run batchproc with --json and collect its records by input path."""
    argv = batchproc_argv(*arguments, "--json", "--jobs", "2")
    watched = run_watched(argv, limit_bytes=limit_bytes, timeout=timeout,
                          env={**os.environ, **(env or {})})
    result = StepRun(argv, watched)
    for line in watched.stdout.decode("utf-8", "replace").splitlines():
        try:
            record = json.loads(line)
            result.records[record["input"]] = record
        except (ValueError, KeyError, TypeError):
            result.stray_lines.append(line)
    return result


def run_step(step: StepCommand, folder, out, *, exclude=()) -> StepRun:
    """Run an image step over a corpus folder into `out` (leaving out the names in `exclude`)."""
    excluded = [word for name in exclude for word in ("--exclude", name)]
    return run_batchproc([*step.argv, folder, "--out", out, *excluded])


def copy_corpus(files: list[CorpusFile], folder, into) -> dict[str, CorpusFile]:
    """Copy the written files (no memory bombs) from `folder` into `into`: new path -> file."""
    copies = {}
    for item in files:
        if item.path is None or item.memory_bomb:
            continue
        target = Path(into) / item.path.relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(item.path, target)
        copies[str(target)] = item
    return copies


# --- reading back ----------------------------------------------------------------------------

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


# --- judging ---------------------------------------------------------------------------------

#: "TypeError: ...", "struct.error: ...", "MemoryError": a Python exception, not a reason.
EXCEPTION_NAME = re.compile(r"^\s*(?:[A-Za-z_]\w*\.)*(?:[A-Z]\w*(?:Error|Exception|Warning|Exit|"
                            r"Interrupt)|error)\b\s*(?::|$)")


def reason_problem(error) -> str | None:
    """Why a failure's text is not a reason in words, or None if it is one."""
    if not isinstance(error, str) or not error.strip():
        return "failed without saying why"
    if "Traceback (most recent call last)" in error or "\n" in error.strip():
        return f"failed with a traceback, not a one-line reason: {error.strip()[:200]!r}"
    if EXCEPTION_NAME.match(error):
        return f"failed with a Python exception, not a reason: {error!r}"
    return None


def output_paths(record) -> list[str]:
    output = record.get("output")
    if not output:
        return []
    return output if isinstance(output, list) else [output]


def output_problems(item: CorpusFile, step: StepCommand | None, path: str, reading: dict | None) -> list[str]:
    """What is wrong with an output that batchproc reported ok (empty: it reads back fine)."""
    if reading is None:
        return [f"output {path} was not read back"]
    problems = []
    expected = step.expected_size(item.size) if step and item.size else None
    for reader, name in (("pillow", "Pillow"), ("vips", "libvips")):
        seen = reading.get(reader, {})
        if seen.get("ok") is None and reader == "vips":
            continue  # libvips has no loader for this format (BMP): nothing to check
        if not seen.get("ok"):
            problems.append(f"{name} cannot read the output: {seen.get('error')}")
            continue
        width, height = seen["size"]
        if expected and (abs(width - expected[0]) > 1 or abs(height - expected[1]) > 1):
            problems.append(f"{name} reads it as {width}x{height}, expected {expected[0]}x{expected[1]}")
    pillow = reading.get("pillow", {})
    if (pillow.get("ok") and step and step.output_format
            and pillow["format"] not in FORMAT_NAMES[EXTENSIONS[step.output_format]]):
        problems.append(f"the output is {pillow['format']}, not the {step.output_format} asked for")
    if (pillow.get("ok") and step and item.frames and item.frames > 1 and item.group in ("gif", "webp")
            and pillow["format"] in ("GIF", "WEBP") and pillow["frames"] != item.frames):
        problems.append(f"the animation has {pillow['frames']} frames, not {item.frames}")
    return problems


def verdict(item: CorpusFile, step: StepCommand | None, record: dict | None,
            readings: dict) -> tuple[str, list[str]]:
    """(table cell, problems) for one file after one step: the cell says ok, failed: reason or
    UNREADABLE; problems (empty when the property holds) say what is wrong, in words."""
    if record is None:
        return "MISSING", ["batchproc gave no record for this file"]
    status, error = record.get("status"), record.get("error")
    if status == "failed":
        problem = reason_problem(error)
        return f"failed: {short(error)}", [problem] if problem else []
    if status != "ok":
        return f"{status}: {short(error)}", [f"ended {status!r} ({error}), neither ok nor failed"]
    problems = [problem for path in output_paths(record)
                for problem in output_problems(item, step, path, readings.get(path))]
    if not output_paths(record):
        problems.append("ok, but no output")
    return ("UNREADABLE: " + short(problems[0]) if problems else "ok"), problems


def short(text, limit=60) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[:limit - 3] + "..."
