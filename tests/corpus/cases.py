"""What the corpus is made of: a Case (how to write one file) per kind, registered in order,
and the CorpusFile each one becomes; the common ways a case gets written (Pillow, tiffcp,
libvips, ImageMagick, the first half of a whole file)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .pictures import H, W, picture


@dataclass(frozen=True)
class CorpusFile:
    """One file of the corpus and what is known about it."""

    #: A short stable label, "format/what-it-is": "tiff/planar-lzw-rgba-16bit".
    kind: str
    #: Where it was written; None when the tool that writes it is missing.
    path: Path | None
    #: (width, height) of the first page or frame as it is meant to be seen (EXIF or TIFF
    #: orientation applied); None when nobody can know (random bytes, an empty file).
    size: tuple[int, int] | None
    #: Pages or frames, when known.
    frames: int | None
    #: Crafted or broken on purpose: failing on it is a fine outcome, when said in words.
    hostile: bool = False
    #: Decoding it naively takes gigabytes: only ever run under a memory watch.
    memory_bomb: bool = False
    #: Why the file could not be written (the missing tool), else None.
    missing: str | None = None

    @property
    def group(self) -> str:
        return self.kind.split("/", 1)[0]


@dataclass(frozen=True)
class Case:
    kind: str
    extension: str
    write: Callable[[Path, Path], None]  # (path, scratch folder)
    size: tuple[int, int] | None
    frames: int | None = 1
    tools: tuple[str, ...] = ()
    hostile: bool = False
    memory_bomb: bool = False



def run(*argv) -> None:
    """Run a tool; a failure is a corpus bug, so it raises with the tool's own words."""
    completed = subprocess.run([str(a) for a in argv], capture_output=True, text=True)
    if completed.returncode != 0 or completed.stderr.strip().startswith(("Error", "error")):
        raise RuntimeError(f"{' '.join(map(str, argv))} failed: {completed.stderr.strip()}")



CASES: list[Case] = []


EXTENSIONS = {"tiff": ".tif", "png": ".png", "jpeg": ".jpg", "gif": ".gif", "webp": ".webp",
              "bmp": ".bmp"}


def case(kind, extension=None, size=(W, H), frames=1, tools=(), hostile=False, memory_bomb=False):
    """Register the decorated writer as a case (the extension defaults to its format's)."""
    extension = extension or EXTENSIONS[kind.split("/")[0]]

    def register(write):
        CASES.append(Case(kind, extension, write, size, frames, tuple(tools), hostile, memory_bomb))
        return write
    return register


def pillow_case(kind, extension, make, size=(W, H), frames=1, **options):
    """A case Pillow writes: make() -> image, saved with `options`."""
    case(kind, extension, size, frames)(lambda path, _: make().save(path, **options))


def tiffcp_case(kind, source, *arguments, size=(W, H), frames=1):
    """A case libtiff's tiffcp writes from a source TIFF that source(path) writes."""
    def write(path, scratch):
        source(scratch / "source.tif")
        run("tiffcp", *arguments, scratch / "source.tif", path)
    case(kind, ".tif", size, frames, tools=("tiffcp",))(write)


def vips_case(kind, extension, make, size=(W, H), frames=1, **options):
    """A case libvips writes: make() -> pyvips image, saved with `options`."""
    case(kind, extension, size, frames, tools=("pyvips",))(
        lambda path, _: make().write_to_file(str(path), **options))


def magick_case(kind, extension, *arguments, tool="convert", size=(W, H), source_mode="RGB"):
    """A case ImageMagick (or GraphicsMagick) writes from a PNG: arguments end with the
    output's coder prefix, e.g. "BMP3:"."""
    *options, prefix = arguments

    def write(path, scratch):
        picture(mode=source_mode).save(scratch / "source.png")
        command = [tool] if tool == "convert" else [tool, "convert"]
        run(*command, scratch / "source.png", *options, f"{prefix}{path}")
    case(kind, extension, size, tools=(tool,))(write)



def half_of(write_whole):
    """A writer of the first half of the file `write_whole(path)` writes."""
    def write(path, scratch):
        whole = scratch / ("whole" + path.suffix)
        write_whole(whole)
        data = whole.read_bytes()
        path.write_bytes(data[:len(data) // 2])
    return write
