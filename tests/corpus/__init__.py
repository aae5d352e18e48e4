"""A broad corpus of generated images, and the means to judge batchproc on it.

`build_corpus(folder)` writes some two hundred small images: the TIFF matrix (strip or tiled,
chunky or planar, every common compression, bit depth and colour space, BigTIFF, multi-page),
every PNG colour type and bit depth, JPEG, GIF, WebP and BMP variants, and crafted or broken
files (truncated, mislabelled, bombs). Pillow, pyvips, libtiff's tiffcp, ImageMagick and
jpegtran write them; a case whose tool is missing comes back with `missing` set and no file.
Nothing is downloaded and the same folder is written every time.

The rest of the package runs batchproc's image steps over a corpus (`run_step`, under a watch
on the memory of its whole process tree), reads every output back with Pillow and libvips in
guarded reader processes (`read_back`), and turns a file's record and reading into a verdict
(`verdict`). tests/test_corpus.py and bench/trust_table.py both use it, through the names
this module re-exports.

Where things are: `cases` (Case, CorpusFile, the registry), `pictures`, `byte_writers`, one
`<format>_cases` module per format (TIFF's hand-made layouts in `tiff_layouts`),
`hostile_cases`; then `steps`, `running`, `reading` and `verdicts`.
"""

from __future__ import annotations

import importlib
import shutil
import tempfile
from pathlib import Path

from . import (bmp_cases, gif_cases, hostile_cases, jpeg_cases, png_cases, tiff_cases,
               webp_cases)
from .cases import CASES, EXTENSIONS, Case, CorpusFile
from .reading import pillow_reading, read_back, serve_readings, vips_reading
from .running import (RUN_MEMORY_LIMIT, StepRun, Watched, batchproc_argv, copy_corpus,
                      run_batchproc, run_step, run_watched)
from .steps import FORMAT_NAMES, IN_PLACE, STEPS, STEPS_BY_NAME, StepCommand
from .verdicts import output_paths, output_problems, reason_problem, short, verdict

__all__ = ["CASES", "EXTENSIONS", "FORMAT_NAMES", "IN_PLACE", "RUN_MEMORY_LIMIT", "STEPS",
           "STEPS_BY_NAME", "Case", "CorpusFile", "StepCommand", "StepRun", "Watched",
           "batchproc_argv", "build_corpus", "copy_corpus", "kinds", "missing_tool",
           "output_paths", "output_problems", "pillow_reading", "read_back", "reason_problem",
           "run_batchproc", "run_step", "run_watched", "serve_readings", "short", "verdict",
           "vips_reading"]

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
